package e2e

import (
	"context"
	"fmt"
	"testing"

	"qinqing/internal/access"
	"qinqing/internal/hotline"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

// BenchmarkCallLog reports database round trips and allocations per
// request of the hotline screens, beside a bare authenticated query in the
// same run: logging a call with a matched phone, the call log with each
// call's person, household and answerer (must not grow with the page
// size), and the supervisors' summary (one aggregation).
func BenchmarkCallLog(b *testing.B) {
	var rt roundTrips
	db := mongo.NewTestDB(b, mongo.Options{Monitor: rt.monitor()})
	e := startServer(b, db)
	w := e.world()
	ctx := context.Background()
	st, err := e.App.Services.Staff.WithRole(ctx, w.X.ID, access.Supervisor)
	if err != nil || len(st) == 0 {
		b.Fatal("no supervisor", err)
	}
	sup := &access.Caller{Kind: auth.KindStaff, ID: st[0].ID, Roles: st[0].Roles, Communities: st[0].CommunityIDs}
	phones := []string{w.OwnerA.Phone, w.OwnerB.Phone, "13700000001", w.OwnerY.Phone}
	for i := range 60 {
		rings := 1 + i%6
		if _, err := e.App.Services.Calls.Log(ctx, sup, hotline.LogInput{CommunityID: w.X.ID, Phone: phones[i%len(phones)], Rings: &rings}); err != nil {
			b.Fatal(err)
		}
	}
	c := e.staff(w.supervisorX, w.Password)
	run := func(name, q string, vars map[string]any) {
		b.Run(name, func(b *testing.B) {
			c.ok(q, vars, nil)
			rt.n.Store(0)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				c.ok(q, vars, nil)
			}
			b.ReportMetric(float64(rt.n.Load())/float64(b.N), "db-roundtrips/op")
		})
	}
	run("baseline=me", `{ me { kind } }`, nil)
	run("logCall", `mutation($in:LogCallInput!){ logCall(input:$in){ id person { name } household { label } } }`,
		map[string]any{"in": map[string]any{"communityId": w.X.ID, "phone": w.OwnerB.Phone, "rings": 2}})
	for _, n := range []int{10, 50} {
		run(fmt.Sprintf("callLog/first=%d", n), `query($c:ID!,$n:Int!){ callLog(communityId:$c, first:$n){ totalCount edges { node { id phone person { name } household { label } answeredBy { name } withinStandard } } } }`,
			map[string]any{"c": w.X.ID, "n": n})
	}
	run("callSummary", `query($c:ID!){ callSummary(communityId:$c, from:"2026-11-01T00:00:00+08:00", to:"2026-12-01T00:00:00+08:00"){ calls withinStandard { rate } rings { median p90 } byOutcome { count } } }`,
		map[string]any{"c": w.X.ID})
}
