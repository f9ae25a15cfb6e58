package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/platform/config"
	"qinqing/internal/platform/pdf"
)

const noticeQ = `query($h:ID!){ dunningCase(householdId:$h){ status records { step notice {
  number issuedAt payBy totalFen householdLabel addressedTo howToPay periods { period dueDate amountFen daysOverdue } url } } } }`

type noticeView struct {
	Number, IssuedAt, PayBy, HouseholdLabel, URL, HowToPay string
	TotalFen                                               int64
	AddressedTo                                            []string
	Periods                                                []struct {
		Period, DueDate string
		AmountFen       int64
		DaysOverdue     int
	}
}

// notice reads the household's written notice through the API.
func notice(t *testing.T, c *client, householdID string) *noticeView {
	t.Helper()
	var v struct {
		DunningCase struct {
			Records []struct {
				Step   string
				Notice *noticeView
			}
		}
	}
	c.ok(noticeQ, map[string]any{"h": householdID}, &v)
	for _, r := range v.DunningCase.Records {
		if r.Step == "WRITTEN_NOTICE" {
			return r.Notice
		}
	}
	t.Fatalf("no written notice: %+v", v)
	return nil
}

// The written notice (书面催缴通知书): recorded through a server without
// the font (the step needs none), frozen with its number, periods and
// total, served as a PDF to the case's staff and the household's owner and
// to nobody else, the same document after a payment; the server without
// the font answers 503 DOCUMENT_FONT_MISSING and said so once at start-up.
func TestWrittenNotice(t *testing.T) {
	font := pdf.TestFont(t)
	e := newEnv(t, withConfig(func(c *config.Config) { c.PDFFont = font.Path() }))
	var logs lockedBuffer
	cfg := testConfig()
	cfg.PDFFont = filepath.Join(t.TempDir(), "missing.ttf")
	bare := startServerWithLog(t, e.DB, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	w := e.world()
	ctx := context.Background()
	overdueBill(t, e, w.HA, "2026-10", "2026-10-31", 36050)
	tick := func() {
		t.Helper()
		if err := e.App.Services.Dunning.Tick(ctx, w.X.ID); err != nil {
			t.Fatal(err)
		}
	}
	later := func(d time.Duration) { e.Clock.Advance(d); bare.Clock.Advance(d) }
	tick() // the friendly reminder
	later(7*24*time.Hour + time.Hour)
	tick() // the second notice
	overdueBill(t, e, w.HA, "2026-11", "2026-11-30", 36050)
	later(7 * 24 * time.Hour)
	e.staff(w.butlerX, w.Password).ok(stepQ, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "step": "CALL_OR_VISIT", "outcome": "REFUSED"}}, nil)
	later(7 * 24 * time.Hour)
	e.staffWithRole(w, "x.finance", access.Finance)
	bare.staff("x.finance", w.Password).ok(stepQ, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "step": "WRITTEN_NOTICE"}}, nil)

	finance := e.staff("x.finance", w.Password)
	n := notice(t, finance, w.HA.ID)
	if n == nil || n.Number != "2026-0001" || n.TotalFen != 72100 || n.PayBy != "2026-12-28" || n.HouseholdLabel != w.HA.Label ||
		len(n.AddressedTo) != 1 || n.AddressedTo[0] != w.OwnerA.Name || len(n.Periods) != 2 ||
		n.Periods[0].Period != "2026-10" || n.Periods[0].DaysOverdue != 43 || n.Periods[1].AmountFen != 36050 || n.Periods[1].DaysOverdue != 13 ||
		n.URL != "/documents/dunning/"+w.HA.ID+"/2026-0001.pdf" || !strings.Contains(n.HowToPay, "春晖苑客户服务中心") {
		t.Fatalf("the notice: %+v", n)
	}
	waitFor(t, "the owner told by SMS", func() bool {
		// Either server's outbox may deliver it.
		for _, m := range append(e.SMS.texts(w.OwnerA.Phone), bare.SMS.texts(w.OwnerA.Phone)...) {
			if strings.Contains(m, "书面催缴通知书（编号 2026-0001）") && strings.Contains(m, "721.00 元") {
				return true
			}
		}
		return false
	})

	// The PDF: the case's staff and the owner; nobody else.
	status, ctype, doc := finance.get(n.URL)
	checkPDF(t, "finance", status, ctype, doc)
	owner := e.owner(w.OwnerA.Phone)
	var inbox struct {
		Notifications struct {
			Edges []struct {
				Node struct {
					Kind, Title string
					Data        []struct{ Key, Value string }
				}
			}
		}
	}
	owner.ok(`{ notifications(first:20){ edges { node { kind title data { key value } } } } }`, nil, &inbox)
	linked := false
	for _, ed := range inbox.Notifications.Edges {
		for _, kv := range ed.Node.Data {
			linked = linked || ed.Node.Kind == "FEE_REMINDER" && ed.Node.Title == "物业费书面催缴通知" && kv.Key == "documentUrl" && kv.Value == n.URL
		}
	}
	if !linked {
		t.Fatalf("the owner's inbox has no link to the notice: %+v", inbox)
	}
	status, ctype, mine := owner.get(n.URL)
	checkPDF(t, "the owner", status, ctype, mine)
	if !bytes.Equal(doc, mine) {
		t.Fatal("one notice, two documents")
	}
	text := pdf.Text(doc)
	for _, want := range []string{"物业服务费书面催缴通知书", "编号：2026-0001", w.OwnerA.Name, "2026-10", "360.50", "721.00", "43 天", "2026年12月28日", "春晖苑物业服务中心"} {
		if !strings.Contains(text, want) {
			t.Fatalf("the document lacks %q:\n%s", want, text)
		}
	}
	if status, _, _ := e.anon().get(n.URL); status != 401 {
		t.Fatalf("without a token: %d", status)
	}
	for name, c := range map[string]*client{"another household's owner": e.owner(w.OwnerB.Phone), "another community's supervisor": e.staff(w.supervisorY, w.Password)} {
		if status, _, _ := c.get(n.URL); status != 404 {
			t.Fatalf("%s: %d", name, status)
		}
	}
	if status, _, _ := finance.get("/documents/dunning/" + w.HA.ID + "/2026-0002.pdf"); status != 404 {
		t.Fatalf("a number never issued: %d", status)
	}

	// A payment later changes the arrears, not the notice.
	recordPayment(finance, map[string]any{"householdId": w.HA.ID, "method": "CASH", "amountFen": 36050})
	if again := notice(t, finance, w.HA.ID); again.TotalFen != n.TotalFen || len(again.Periods) != 2 || again.IssuedAt != n.IssuedAt || again.Periods[0].AmountFen != 36050 {
		t.Fatalf("after a payment: %+v", again)
	}
	if _, _, after := finance.get(n.URL); !bytes.Equal(after, doc) {
		t.Fatal("the document changed after a payment")
	}

	// The server without the font: 503 with the code, in Chinese, naming the package.
	for range 2 {
		req := bare.staff("x.finance", w.Password)
		status, ctype, body := req.get(n.URL)
		var r gqlResponse
		if err := json.Unmarshal(body, &r); err != nil || status != 503 || !strings.HasPrefix(ctype, "application/json") || len(r.Errors) != 1 ||
			r.Errors[0].Extensions["code"] != "DOCUMENT_FONT_MISSING" || !strings.Contains(r.Errors[0].Message, "fonts-droid-fallback") {
			t.Fatalf("without the font: %d %s %s", status, ctype, body)
		}
	}
	if got := strings.Count(logs.String(), "PDF documents are off"); got != 1 {
		t.Fatalf("the missing font logged %d times:\n%s", got, logs.String())
	}
}

// checkPDF: a PDF of one or more pages with its font embedded.
func checkPDF(t *testing.T, who string, status int, ctype string, b []byte) {
	t.Helper()
	if status != 200 || ctype != "application/pdf" || !bytes.HasPrefix(b, []byte("%PDF-")) ||
		bytes.Count(b, []byte("/Type /Page\n")) < 1 || !bytes.Contains(b, []byte("/FontFile2")) {
		t.Fatalf("%s: %d %s %q", who, status, ctype, b[:min(len(b), 64)])
	}
}
