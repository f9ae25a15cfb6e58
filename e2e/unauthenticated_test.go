package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"qinqing/internal/platform/auth"
)

// Every cause of a refused token found before execution answers the same
// way, on /graphql and on /files: 401, WWW-Authenticate: Bearer, an
// UNAUTHENTICATED error and no data. (A request without any token is
// anonymous: a field that needs a sign-in fails inside a 200 answer.)
func TestUnauthenticatedCausesAnswerAlike(t *testing.T) {
	e := newEnv(t)
	w := e.world()

	other, err := auth.NewTokens([]byte("another-secret-another-secret-12345"), 15*time.Minute, e.Clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	staffID := func(c *client) string {
		var me struct {
			Me struct{ Staff struct{ ID string } }
		}
		c.ok(`{ me { staff { id } } }`, nil, &me)
		return me.Me.Staff.ID
	}
	forged, _, err := other.Issue(auth.KindStaff, staffID(e.staff(w.butlerX, w.Password)), "")
	if err != nil {
		t.Fatal(err)
	}

	loggedOut := e.staff(w.butlerX, w.Password)
	loggedOut.ok(`mutation{ logout }`, nil, nil)

	gone := e.staff(w.engineerX, w.Password)
	admin := e.staff(w.adminAcct, w.Password)
	admin.ok(`mutation($id:ID!){ updateStaffScope(staffId:$id, input:{active:false}){ id } }`, map[string]any{"id": staffID(gone)}, nil)

	// Expires last: the clock moves past its lifetime after the others
	// have been made.
	expired := e.staff(w.supervisorX, w.Password)

	causes := []struct{ name, header string }{
		{"malformed token", "Bearer not-a-token"},
		{"another scheme", "Basic YWRtaW46YWRtaW4="},
		{"bad signature", "Bearer " + forged},
		{"logged-out session", "Bearer " + loggedOut.token},
		{"deactivated account", "Bearer " + gone.token},
	}
	check := func(t *testing.T, header string) {
		t.Helper()
		for _, target := range []struct{ method, path, body string }{
			{http.MethodPost, "/graphql", `{"query":"{ __typename }"}`},
			{http.MethodGet, "/graphql?query=%7B__typename%7D", ""},
			{http.MethodGet, "/files/000000000000000000000000", ""},
		} {
			req, _ := http.NewRequest(target.method, e.URL+target.path, strings.NewReader(target.body))
			if target.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("Authorization", header)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var body struct {
				Data   *json.RawMessage `json:"data"`
				Errors []struct {
					Message    string
					Extensions map[string]any
				}
			}
			_ = json.Unmarshal(raw, &body)
			if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") ||
				len(body.Errors) != 1 || body.Errors[0].Extensions["code"] != "UNAUTHENTICATED" || body.Errors[0].Message == "" {
				t.Errorf("%s %s: status %d, WWW-Authenticate %q, body %s", target.method, target.path, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), raw)
			}
			if strings.Contains(string(raw), `"data"`) {
				t.Errorf("%s %s: a refused request has a data entry: %s", target.method, target.path, raw)
			}
		}
	}
	for _, c := range causes {
		t.Run(c.name, func(t *testing.T) { check(t, c.header) })
	}
	e.Clock.Advance(16 * time.Minute)
	t.Run("expired token", func(t *testing.T) { check(t, "Bearer "+expired.token) })

	// Anonymous: no token at all is not a refused token.
	if r := e.anon().do(`{ me { kind } }`, nil); r.status != http.StatusOK || r.code() != "UNAUTHENTICATED" {
		t.Errorf("anonymous me: status %d, %+v", r.status, r.Errors)
	}
}
