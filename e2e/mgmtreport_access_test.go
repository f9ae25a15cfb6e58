package e2e

import (
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
)

// Who reads and writes a community's management reports: its staff read
// every version, supervisors and finance clerks generate, supervisors
// publish; sitting committee members read drafts and comment on them;
// other residents read published versions only and never the comments;
// another community's owners and staff get NOT_FOUND.
func TestManagementReportAccess(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	cst := time.FixedZone("CST", 8*3600)
	e.Clock.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, cst))
	e.staffWithRole(w, "x.finance", access.Finance)
	sup := e.staff(w.supervisorX, w.Password)
	sup.ok(`mutation($in: AppointCommitteeMemberInput!){ appointCommitteeMember(input:$in){ id } }`, map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "personId": w.OwnerA.ID, "role": "CHAIR", "termStart": "2026-06-01", "termEnd": "2031-05-31"}}, nil)
	chair, resident, ownerY := e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone), e.owner(w.OwnerY.Phone)
	butler, finance, supY := e.staff(w.butlerX, w.Password), e.staff("x.finance", w.Password), e.staff(w.supervisorY, w.Password)

	const generate = `mutation($c:ID!){ generateManagementReport(communityId:$c, period:"2026-11"){ id status revision } }`
	const get = `query($id:ID!){ managementReport(id:$id){ id status version versions { id } comments { text section role authorName } } }`
	const list = `query($c:ID!){ managementReports(communityId:$c){ totalCount edges { node { id status versions { id } } } } }`
	const comment = `mutation($id:ID!,$s:ManagementReportSection,$t:String!){ commentOnManagementReport(id:$id, section:$s, text:$t){ id text section role authorName } }`
	const commentary = `mutation($id:ID!){ setManagementReportCommentary(id:$id, section:CLEANING, text:"保洁整改中"){ id } }`
	const publish = `mutation($id:ID!){ publishManagementReport(id:$id){ id status } }`
	for name, c := range map[string]*client{"a butler": butler, "the chair": chair, "a resident": resident} {
		if r := c.do(generate, map[string]any{"c": w.X.ID}); r.code() != "FORBIDDEN" {
			t.Errorf("%s generates: %+v", name, r.Errors)
		}
	}
	for name, c := range map[string]*client{"another community's owner": ownerY, "another community's supervisor": supY} {
		if r := c.do(generate, map[string]any{"c": w.X.ID}); r.code() != "NOT_FOUND" {
			t.Errorf("%s generates: %+v", name, r.Errors)
		}
	}
	var g struct{ GenerateManagementReport struct{ ID, Status string } }
	sup.ok(generate, map[string]any{"c": w.X.ID}, &g)
	id := g.GenerateManagementReport.ID
	finance.ok(generate, map[string]any{"c": w.X.ID}, nil) // a finance clerk refreshes it
	finance.ok(commentary, map[string]any{"id": id}, nil)

	// The draft: staff and the chair read it; the chair comments.
	type report struct {
		ManagementReport *struct {
			ID, Status string
			Versions   []struct{ ID string }
			Comments   []struct {
				Text, Role, AuthorName string
				Section                *string
			}
		}
	}
	var got report
	chair.ok(get, map[string]any{"id": id}, &got)
	if got.ManagementReport == nil || got.ManagementReport.Status != "DRAFT" {
		t.Fatalf("the chair reads the draft: %+v", got)
	}
	var cm struct {
		CommentOnManagementReport struct {
			Text, Role, AuthorName string
			Section                *string
		}
	}
	chair.ok(comment, map[string]any{"id": id, "s": "SECURITY", "t": "夜间巡更请增加地下车库"}, &cm)
	if c := cm.CommentOnManagementReport; c.Role != "CHAIR" || c.AuthorName != w.OwnerA.Name || c.Section == nil || *c.Section != "SECURITY" {
		t.Errorf("comment: %+v", c)
	}
	chair.ok(comment, map[string]any{"id": id, "t": "整体同意发布"}, nil)
	for name, c := range map[string]*client{"the chair": chair, "a butler": butler} {
		var r report
		c.ok(get, map[string]any{"id": id}, &r)
		if r.ManagementReport == nil || len(r.ManagementReport.Comments) != 2 || r.ManagementReport.Comments[0].Text != "夜间巡更请增加地下车库" {
			t.Errorf("%s reads the draft's comments: %+v", name, r.ManagementReport)
		}
	}
	// Not the committee: staff cannot comment, the chair cannot edit or publish.
	if r := butler.do(comment, map[string]any{"id": id, "t": "员工意见"}); r.code() != "FORBIDDEN" {
		t.Errorf("a butler comments: %+v", r.Errors)
	}
	for name, op := range map[string]string{"commentary": commentary, "publish": publish} {
		if r := chair.do(op, map[string]any{"id": id}); r.code() != "FORBIDDEN" {
			t.Errorf("the chair's %s: %+v", name, r.Errors)
		}
	}
	if r := finance.do(publish, map[string]any{"id": id}); r.code() != "FORBIDDEN" {
		t.Errorf("a finance clerk publishes: %+v", r.Errors)
	}
	// A resident off the committee, and everyone outside: no draft.
	for name, c := range map[string]*client{"a resident": resident, "another community's owner": ownerY, "another community's supervisor": supY} {
		if r := c.do(get, map[string]any{"id": id}); r.code() != "NOT_FOUND" {
			t.Errorf("%s reads the draft: %+v", name, r.Errors)
		}
		if r := c.do(comment, map[string]any{"id": id, "t": "意见"}); r.code() != "NOT_FOUND" {
			t.Errorf("%s comments: %+v", name, r.Errors)
		}
	}
	var l struct {
		ManagementReports struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					ID, Status string
					Versions   []struct{ ID string }
				}
			}
		}
	}
	resident.ok(list, map[string]any{"c": w.X.ID}, &l)
	if l.ManagementReports.TotalCount != 0 || len(l.ManagementReports.Edges) != 0 {
		t.Errorf("a resident lists drafts: %+v", l)
	}
	for name, c := range map[string]*client{"another community's owner": ownerY, "another community's supervisor": supY} {
		if r := c.do(list, map[string]any{"c": w.X.ID}); r.code() != "NOT_FOUND" {
			t.Errorf("%s lists: %+v", name, r.Errors)
		}
	}

	// Published: every resident reads it, without the comments; the
	// committee comments no more.
	sup.ok(publish, map[string]any{"id": id}, nil)
	resident.ok(get, map[string]any{"id": id}, &got)
	if got.ManagementReport == nil || got.ManagementReport.Status != "PUBLISHED" || len(got.ManagementReport.Comments) != 0 {
		t.Errorf("a resident reads the published report: %+v", got.ManagementReport)
	}
	chair.fails("CONFLICT", comment, map[string]any{"id": id, "t": "补充意见"})
	waitFor(t, "the residents' notice", func() bool {
		for _, n := range resident.inbox().Notifications.Edges {
			if n.Node.Kind == "MANAGEMENT_REPORT_PUBLISHED" && strings.Contains(n.Node.Body, "春晖苑2026年11月管理报告已发布") {
				return true
			}
		}
		return false
	})
	if r := ownerY.do(get, map[string]any{"id": id}); r.code() != "NOT_FOUND" {
		t.Errorf("another community's owner reads the published report: %+v", r.Errors)
	}

	// A correction's draft: the resident still sees version 1 alone; the
	// chair sees the draft first.
	sup.ok(generate, map[string]any{"c": w.X.ID}, nil)
	resident.ok(list, map[string]any{"c": w.X.ID}, &l)
	if n := l.ManagementReports; n.TotalCount != 1 || len(n.Edges) != 1 || n.Edges[0].Node.ID != id || len(n.Edges[0].Node.Versions) != 1 {
		t.Errorf("a resident's list during a correction: %+v", n)
	}
	chair.ok(list, map[string]any{"c": w.X.ID}, &l)
	if n := l.ManagementReports; n.TotalCount != 1 || len(n.Edges) != 1 || n.Edges[0].Node.Status != "DRAFT" || len(n.Edges[0].Node.Versions) != 2 {
		t.Errorf("the chair's list during a correction: %+v", n)
	}
}
