package e2e

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/household"
)

// Owners' votes through the API: who opens and approves, the frozen
// register, one ballot per unit (two owners, proxies), secrecy while the
// vote runs, the count at exactly two thirds, a tie, exactly three
// quarters and a participation short by area, the chair's audit, the
// published receipts, and other communities' people kept out.
func TestOwnersVoteThroughTheAPI(t *testing.T) {
	e := newEnv(t, quietScheduler)
	w := e.world()
	v := newVoteEstate(t, e, w)
	ctx := context.Background()
	sup, butler, supX, supY := e.staff(v.sup, w.Password), e.staff(v.but, w.Password), e.staff(w.supervisorX, w.Password), e.staff(w.supervisorY, w.Password)
	owners := make([]*client, 6)
	for i, p := range v.Owners {
		owners[i] = e.owner(p)
	}
	chair, coOwner, tenant, proxy, outsider := owners[0], e.owner(v.CoOwner), e.owner(v.Tenant), e.owner(w.OwnerY.Phone), e.owner(w.OwnerA.Phone)
	chairID, _, err := e.App.Services.Households.PersonByPhone(ctx, v.Owners[0])
	if err != nil {
		t.Fatal(err)
	}
	appointChair(t, e, sup, v.C.ID, chairID)
	// Ten minutes: the test's sessions (15 minutes) outlive the vote.
	closes := e.Clock.Now().Add(10 * time.Minute)

	// Who may put a matter to the owners, and what is refused by field.
	for _, c := range []*client{owners[2], tenant, butler} {
		c.fails("FORBIDDEN", openVoteQ, map[string]any{"in": voteInput(v.C.ID, "更换门禁", "ORDINARY", closes)})
	}
	supY.fails("NOT_FOUND", openVoteQ, map[string]any{"in": voteInput(v.C.ID, "更换门禁", "ORDINARY", closes)})
	outsider.fails("NOT_FOUND", openVoteQ, map[string]any{"in": voteInput(v.C.ID, "更换门禁", "ORDINARY", closes)})
	bad := voteInput(v.C.ID, "更换门禁", "ORDINARY", closes)
	bad["options"] = []any{map[string]any{"text": "同意"}, map[string]any{"text": "同意"}}
	if r := chair.fails("BAD_USER_INPUT", openVoteQ, map[string]any{"in": bad}); r.field() != "input.options.1.text" {
		t.Errorf("duplicate option: field %q", r.field())
	}
	bad = voteInput(v.C.ID, "更换门禁", "ORDINARY", e.Clock.Now().Add(-time.Hour))
	if r := chair.fails("BAD_USER_INPUT", openVoteQ, map[string]any{"in": bad}); r.field() != "input.closesAt" {
		t.Errorf("past closing: field %q", r.field())
	}
	// The world's community X has owners without a floor area: no register.
	r := supX.fails("CONFLICT", openVoteQ, map[string]any{"in": voteInput(w.X.ID, "更换门禁", "ORDINARY", closes)})
	if !strings.Contains(r.Errors[0].Message, "3 户") {
		t.Errorf("area missing: message %q should say how many", r.Errors[0].Message)
	}

	// A: the chair opens it at once; the register is frozen: six units, 600 m².
	a := chair.openVote(voteInput(v.C.ID, "更换小区门禁系统", "ORDINARY", closes))
	if a.State != "OPEN" || a.Electorate == nil || a.Electorate.Units != 6 || a.Electorate.Area != 600 || a.ProposedByCompany {
		t.Fatalf("vote A opened: %+v", a)
	}
	// B: a supervisor proposes it; only the committee opens it.
	b := sup.openVote(voteInput(v.C.ID, "调整停车收费", "ORDINARY", closes))
	if b.State != "PROPOSED" || b.Electorate != nil || !b.ProposedByCompany {
		t.Fatalf("vote B proposed: %+v", b)
	}
	owners[0].fails("CONFLICT", castQ, map[string]any{"v": b.ID, "h": v.Units[0].ID, "o": "1"})
	sup.fails("FORBIDDEN", `mutation($id:ID!){ approveVote(id:$id){ id } }`, map[string]any{"id": b.ID})
	owners[2].fails("FORBIDDEN", `mutation($id:ID!){ approveVote(id:$id){ id } }`, map[string]any{"id": b.ID})
	var ap struct{ ApproveVote voteView }
	chair.ok(`mutation($id:ID!){ approveVote(id:$id){ `+voteFields+` } }`, map[string]any{"id": b.ID}, &ap)
	if ap.ApproveVote.State != "OPEN" || ap.ApproveVote.Electorate.Units != 6 {
		t.Fatalf("vote B approved: %+v", ap.ApproveVote)
	}
	chair.fails("CONFLICT", `mutation($id:ID!){ approveVote(id:$id){ id } }`, map[string]any{"id": b.ID})
	c := chair.openVote(voteInput(v.C.ID, "使用维修资金更换电梯", "MAJOR", closes))
	d := chair.openVote(voteInput(v.C.ID, "使用维修资金翻新外墙", "MAJOR", closes))

	// A unit added after the opening is not in the register.
	late := 80.0
	lh, err := e.App.Services.Households.Create(ctx, w.admin, household.CreateInput{BuildingID: v.Units[0].BuildingID, Unit: "1", Room: "901", FloorArea: &late})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Services.Households.AddMember(ctx, w.admin, household.AddMemberInput{HouseholdID: lh.ID,
		Person: &household.PersonInput{Name: "新业主", Phone: "13920000009"}, Role: access.Owner}); err != nil {
		t.Fatal(err)
	}
	newcomer := e.owner("13920000009")
	if r := newcomer.fails("CONFLICT", castQ, map[string]any{"v": a.ID, "h": lh.ID, "o": "1"}); r.field() != "householdId" {
		t.Errorf("unit outside the register: field %q", r.field())
	}

	// Proxies: U5's owner appoints the proxy (someone of another community).
	appoint := `mutation($v:ID!,$h:ID!,$p:String!){ appointProxy(voteId:$v, householdId:$h, proxyPhone:$p){ householdId proxyPhone voted asProxy } }`
	revoke := `mutation($v:ID!,$h:ID!){ revokeProxy(voteId:$v, householdId:$h){ householdId proxyPhone } }`
	if r := owners[4].fails("NOT_FOUND", appoint, map[string]any{"v": a.ID, "h": v.Units[4].ID, "p": "13999999999"}); r.field() != "proxyPhone" {
		t.Errorf("unknown proxy: field %q", r.field())
	}
	if r := owners[4].fails("BAD_USER_INPUT", appoint, map[string]any{"v": a.ID, "h": v.Units[4].ID, "p": v.Owners[4]}); r.field() != "proxyPhone" {
		t.Errorf("self as proxy: field %q", r.field())
	}
	owners[3].fails("FORBIDDEN", appoint, map[string]any{"v": a.ID, "h": v.Units[4].ID, "p": w.OwnerY.Phone})
	proxy.fails("NOT_FOUND", voteQ, map[string]any{"id": a.ID})
	owners[4].ok(appoint, map[string]any{"v": a.ID, "h": v.Units[4].ID, "p": w.OwnerY.Phone}, nil)
	owners[4].ok(revoke, map[string]any{"v": a.ID, "h": v.Units[4].ID}, nil)
	proxy.fails("NOT_FOUND", castQ, map[string]any{"v": a.ID, "h": v.Units[4].ID, "o": "2"})
	var apOut struct {
		AppointProxy struct {
			HouseholdID string
			ProxyPhone  *string
		}
	}
	owners[4].ok(appoint, map[string]any{"v": a.ID, "h": v.Units[4].ID, "p": w.OwnerY.Phone}, &apOut)
	if apOut.AppointProxy.ProxyPhone == nil || *apOut.AppointProxy.ProxyPhone != w.OwnerY.Phone {
		t.Errorf("appointed proxy: %+v", apOut.AppointProxy)
	}
	pv := proxy.vote(a.ID)
	if len(pv.MyUnits) != 1 || !pv.MyUnits[0].AsProxy || pv.MyUnits[0].HouseholdID != v.Units[4].ID || pv.MyUnits[0].ProxyPhone != nil {
		t.Errorf("the proxy's units: %+v", pv.MyUnits)
	}
	proxy.fails("NOT_FOUND", voteQ, map[string]any{"id": b.ID}) // a proxy of A only

	// Ballots. A: U1 同意, U2 同意 (co-owner refused), U5 反对 by proxy, U6 同意:
	// 4 of 6 units and 400.00 of 600.00 m², exactly two thirds of both.
	receipts := map[string]castReceipt{}
	receipts["A1"] = chair.cast(a.ID, v.Units[0].ID, "1")
	receipts["A2"] = owners[1].cast(a.ID, v.Units[1].ID, "1")
	r = coOwner.fails("CONFLICT", castQ, map[string]any{"v": a.ID, "h": v.Units[1].ID, "o": "2"})
	if msg := r.Errors[0].Message; !strings.Contains(msg, "已投票") || strings.Contains(msg, "业主2") || strings.Contains(msg, "同意") {
		t.Errorf("co-owner refused with %q: must say the unit voted, naming no one and no choice", msg)
	}
	receipts["A5"] = proxy.cast(a.ID, v.Units[4].ID, "2")
	if !receipts["A5"].ByProxy || receipts["A5"].Option.Text != "反对" {
		t.Errorf("proxy ballot: %+v", receipts["A5"])
	}
	owners[4].fails("CONFLICT", revoke, map[string]any{"v": a.ID, "h": v.Units[4].ID})
	owners[4].fails("CONFLICT", castQ, map[string]any{"v": a.ID, "h": v.Units[4].ID, "o": "1"})
	receipts["A6"] = owners[5].cast(a.ID, v.Units[5].ID, "1")
	// Staff never hold a ballot; a tenant is no owner; an option must exist.
	sup.fails("FORBIDDEN", castQ, map[string]any{"v": a.ID, "h": v.Units[2].ID, "o": "1"})
	tenant.fails("FORBIDDEN", castQ, map[string]any{"v": a.ID, "h": v.Units[6].ID, "o": "1"})
	if r := owners[2].fails("BAD_USER_INPUT", castQ, map[string]any{"v": a.ID, "h": v.Units[2].ID, "o": "9"}); r.field() != "optionId" {
		t.Errorf("unknown option: field %q", r.field())
	}
	// B: a tie in headcount (2:2), though 同意 holds more area.
	chair.cast(b.ID, v.Units[0].ID, "1")
	coOwner.cast(b.ID, v.Units[1].ID, "1")
	owners[4].cast(b.ID, v.Units[4].ID, "2")
	owners[5].cast(b.ID, v.Units[5].ID, "2")
	// C (major): 同意 3 of 4 units, 310.50 of 400.00 m² — at least three quarters.
	chair.cast(c.ID, v.Units[0].ID, "1")
	// U2's two owners at the same moment: one ballot, the other refused.
	var wg sync.WaitGroup
	both := make([]*gqlResponse, 2)
	for i, cl := range []*client{owners[1], coOwner} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			both[i] = cl.do(castQ, map[string]any{"v": c.ID, "h": v.Units[1].ID, "o": "2"})
		}()
	}
	wg.Wait()
	if (len(both[0].Errors) == 0) == (len(both[1].Errors) == 0) || both[0].code()+both[1].code() != "CONFLICT" {
		t.Errorf("two owners at once: %+v / %+v", both[0].Errors, both[1].Errors)
	}
	owners[4].cast(c.ID, v.Units[4].ID, "1")
	owners[5].cast(c.ID, v.Units[5].ID, "1")
	// D (major): 4 of 6 units but only 390.00 of 600.00 m² take part.
	for i := 2; i < 6; i++ {
		owners[i].cast(d.ID, v.Units[i].ID, "1")
	}

	// Secrecy while it runs: turnout only, no result, no receipts, no audit.
	for _, cl := range []*client{sup, owners[2], tenant} {
		got := cl.vote(a.ID)
		if got.Result != nil || got.Turnout == nil || got.Turnout.Units != 4 || got.Turnout.Area != 400 {
			t.Errorf("vote A while open: turnout %+v result %+v", got.Turnout, got.Result)
		}
	}
	receiptsQ := `query($id:ID!){ vote(id:$id){ receipts(first:50){ totalCount edges { node { receipt option { id text } } } } } }`
	var rl struct {
		Vote struct {
			Receipts struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						Receipt string
						Option  struct{ ID, Text string }
					}
				}
			}
		}
	}
	owners[2].ok(receiptsQ, map[string]any{"id": a.ID}, &rl)
	if len(rl.Vote.Receipts.Edges) != 0 {
		t.Errorf("receipts listed while the vote runs: %+v", rl.Vote.Receipts)
	}
	ballotsQ := `query($v:ID!){ voteBallots(voteId:$v, first:50){ totalCount edges { node { householdId unitLabel area cast castBy option { text } castAt receipt } } } }`
	chair.fails("CONFLICT", ballotsQ, map[string]any{"v": a.ID})
	sup.fails("FORBIDDEN", ballotsQ, map[string]any{"v": a.ID})
	mine := owners[1].vote(a.ID)
	if len(mine.MyUnits) != 1 || mine.MyUnits[0].MyBallot == nil || mine.MyUnits[0].MyBallot.Receipt != receipts["A2"].Receipt {
		t.Errorf("the voter's own ballot: %+v", mine.MyUnits)
	}
	co := coOwner.vote(a.ID)
	if len(co.MyUnits) != 1 || !co.MyUnits[0].Voted || co.MyUnits[0].MyBallot != nil {
		t.Errorf("the co-owner sees the unit voted, not the ballot: %+v", co.MyUnits)
	}
	if got := sup.vote(a.ID); len(got.MyUnits) != 0 {
		t.Errorf("staff units: %+v", got.MyUnits)
	}

	// Counting waits for the end; then the chair, a supervisor or the scheduler count.
	closeQ := `mutation($id:ID!){ closeVote(id:$id){ ` + voteFields + ` } }`
	chair.fails("CONFLICT", closeQ, map[string]any{"id": a.ID})
	e.Clock.Set(closes)
	chair.fails("CONFLICT", castQ, map[string]any{"v": a.ID, "h": v.Units[2].ID, "o": "1"})
	owners[2].fails("FORBIDDEN", closeQ, map[string]any{"id": a.ID})
	var ca, cb struct{ CloseVote voteView }
	chair.ok(closeQ, map[string]any{"id": a.ID}, &ca)
	sup.ok(closeQ, map[string]any{"id": b.ID}, &cb)
	if err := e.App.Services.Votes.Tick(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	chair.fails("CONFLICT", closeQ, map[string]any{"id": a.ID})
	rc, rd := owners[2].vote(c.ID), owners[2].vote(d.ID)
	type want struct {
		outcome, adopted string
		units            int64
		area             float64
		met              bool
		tallies          [][2]float64 // units, area per option
	}
	for name, g := range map[string]struct {
		v voteView
		w want
	}{
		"A exactly two thirds": {ca.CloseVote, want{"ADOPTED", "同意", 4, 400, true, [][2]float64{{3, 305}, {1, 95}, {0, 0}}}},
		"B tie":                {cb.CloseVote, want{"NOT_ADOPTED", "", 4, 400, true, [][2]float64{{2, 210}, {2, 190}, {0, 0}}}},
		"C three quarters":     {rc, want{"ADOPTED", "同意", 4, 400, true, [][2]float64{{3, 310.5}, {1, 89.5}, {0, 0}}}},
		"D area short":         {rd, want{"NO_QUORUM", "", 4, 390, false, [][2]float64{{4, 390}, {0, 0}, {0, 0}}}},
	} {
		res := g.v.Result
		if g.v.State != "CLOSED" || res == nil {
			t.Errorf("%s: not closed: %+v", name, g.v)
			continue
		}
		adopted := ""
		if res.AdoptedOption != nil {
			adopted = res.AdoptedOption.Text
		}
		if res.Outcome != g.w.outcome || adopted != g.w.adopted || res.Participating.Units != g.w.units || res.Participating.Area != g.w.area || res.ParticipationMet != g.w.met {
			t.Errorf("%s: result %+v, want %+v", name, res, g.w)
		}
		for i, o := range res.Options {
			if o.Tally.Units != int64(g.w.tallies[i][0]) || o.Tally.Area != g.w.tallies[i][1] {
				t.Errorf("%s: option %s tally %+v, want %v", name, o.Option.Text, o.Tally, g.w.tallies[i])
			}
		}
	}

	// After the count: the published receipts (no units), each voter's found
	// with their choice; the chair's audit of every unit; staff see no ballot.
	owners[2].ok(receiptsQ, map[string]any{"id": a.ID}, &rl)
	listed := map[string]string{}
	for _, ed := range rl.Vote.Receipts.Edges {
		listed[ed.Node.Receipt] = ed.Node.Option.Text
	}
	if rl.Vote.Receipts.TotalCount != 4 || len(listed) != 4 {
		t.Errorf("published receipts: %+v", rl.Vote.Receipts)
	}
	for k, rc := range receipts {
		if listed[rc.Receipt] != rc.Option.Text {
			t.Errorf("receipt of %s (%s) listed as %q, cast for %q", k, rc.Receipt, listed[rc.Receipt], rc.Option.Text)
		}
	}
	var audit struct {
		VoteBallots struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					HouseholdID, UnitLabel string
					Area                   float64
					Cast                   bool
					CastBy                 *string
					Option                 *struct{ Text string }
					Receipt                *string
				}
			}
		}
	}
	chair.ok(ballotsQ, map[string]any{"v": a.ID}, &audit)
	if audit.VoteBallots.TotalCount != 6 || len(audit.VoteBallots.Edges) != 6 {
		t.Fatalf("audit: %+v", audit.VoteBallots)
	}
	for _, ed := range audit.VoteBallots.Edges {
		n := ed.Node
		i := slices.IndexFunc(v.Units, func(h *household.Household) bool { return h.ID == n.HouseholdID })
		switch i {
		case 2, 3:
			if n.Cast || n.Receipt != nil {
				t.Errorf("audit: unit %s did not vote: %+v", n.UnitLabel, n)
			}
		case 4:
			if !n.Cast || n.CastBy == nil || *n.CastBy != "PROXY" || n.Option.Text != "反对" || *n.Receipt != receipts["A5"].Receipt {
				t.Errorf("audit: U5 by proxy: %+v", n)
			}
		default:
			if !n.Cast || n.CastBy == nil || *n.CastBy != "OWNER" || n.Option.Text != "同意" || n.Area != voteAreas[i] {
				t.Errorf("audit: unit %d: %+v", i+1, n)
			}
		}
	}
	sup.fails("FORBIDDEN", ballotsQ, map[string]any{"v": a.ID})
	owners[2].fails("FORBIDDEN", ballotsQ, map[string]any{"v": a.ID})
	supY.fails("NOT_FOUND", ballotsQ, map[string]any{"v": a.ID})
	supY.fails("NOT_FOUND", voteQ, map[string]any{"id": a.ID})
	outsider.fails("NOT_FOUND", voteQ, map[string]any{"id": a.ID})
	outsider.fails("NOT_FOUND", `query($c:ID!){ votes(communityId:$c){ totalCount } }`, map[string]any{"c": v.C.ID})
	// Every resident heard of each opening and each result, tenants too.
	var inbox struct {
		Notifications struct {
			Edges []struct{ Node struct{ Kind string } }
		}
	}
	tenant.ok(`{ notifications(first:50){ edges { node { kind } } } }`, nil, &inbox)
	kinds := map[string]int{}
	for _, ed := range inbox.Notifications.Edges {
		kinds[ed.Node.Kind]++
	}
	if kinds["VOTE_OPENED"] != 4 || kinds["VOTE_RESULT_PUBLISHED"] != 4 {
		t.Errorf("tenant's vote notices: %v", kinds)
	}
	var list struct {
		Votes struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID, State string } }
		}
	}
	tenant.ok(`query($c:ID!){ votes(communityId:$c, first:10){ totalCount edges { node { id state } } } }`, map[string]any{"c": v.C.ID}, &list)
	if list.Votes.TotalCount != 4 || len(list.Votes.Edges) != 4 {
		t.Errorf("votes: %+v", list.Votes)
	}
}
