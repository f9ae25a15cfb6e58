package e2e

import (
	"context"
	"fmt"
	"testing"

	"qinqing/internal/access"
	"qinqing/internal/complaint"
	"qinqing/internal/intake"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/repair"
)

// BenchmarkServiceKPIs reports database round trips and allocations per
// serviceKpis request (every figure, items filed per channel included) and
// per weekly report (two windows), beside a bare authenticated query in
// the same run, at two sizes of the week's filings: the round trips must
// not grow with the items (one streamed query per collection for all
// windows, never one per item).
func BenchmarkServiceKPIs(b *testing.B) {
	var rt roundTrips
	db := mongo.NewTestDB(b, mongo.Options{Monitor: rt.monitor()})
	e := startServer(b, db)
	w := e.world()
	ctx := context.Background()
	svc := e.App.Services
	owner := &access.Caller{Kind: auth.KindPerson, ID: w.OwnerA.ID, Memberships: []access.Membership{{HouseholdID: w.HA.ID, CommunityID: w.X.ID, Role: access.Owner}}}
	st, err := svc.Staff.WithRole(ctx, w.X.ID, access.Butler)
	if err != nil || len(st) == 0 {
		b.Fatal("no butler", err)
	}
	butler := &access.Caller{Kind: auth.KindStaff, ID: st[0].ID, Roles: st[0].Roles, Communities: st[0].CommunityIDs}
	filed := 0
	file := func(n int) {
		for ; filed < n; filed++ {
			in := repair.SubmitInput{HouseholdID: w.HA.ID, Category: "WATER", Description: "漏水", InHome: true}
			by := owner
			if filed%2 == 1 {
				in.Intake, by = &intake.Input{Channel: intake.Phone, PersonID: w.OwnerA.ID}, butler
			}
			if _, err := svc.Repairs.Submit(ctx, by, in); err != nil {
				b.Fatal(err)
			}
			if filed%4 == 0 {
				if _, err := svc.Complaints.Submit(ctx, owner, complaint.SubmitInput{HouseholdID: w.HA.ID, Category: complaint.Noise, Description: "噪音"}); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	c := e.staff(w.supervisorX, w.Password)
	now := e.Clock.Now()
	window := map[string]any{"c": w.X.ID, "f": now.AddDate(0, 0, -7), "t": now.Add(1)}
	kpis := `query($c:ID!,$f:Time!,$t:Time!){ serviceKpis(communityId:$c, from:$f, to:$t){ ` + kpiFields + `
	  enquiries { received answered { rate } } callsAnsweredWithinStandard { rate }
	  filedByChannel { total byChannel { channel count share { rate } } byKind { kind total byChannel { channel count } } } } }`
	weekly := `query($c:ID!,$d:Date!){ weeklyReport(communityId:$c, weekOf:$d){ summary current { filedByChannel { total } } } }`
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
	for _, n := range []int{10, 40} {
		file(n)
		run(fmt.Sprintf("serviceKpis/repairs=%d", n), kpis, window)
		run(fmt.Sprintf("weeklyReport/repairs=%d", n), weekly, map[string]any{"c": w.X.ID, "d": now.In(shanghaiZone).Format("2006-01-02")})
	}
}
