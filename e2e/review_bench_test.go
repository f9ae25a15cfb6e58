package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/review"
	"qinqing/internal/staff"
)

// BenchmarkMonthlyStaffReviews reports database round trips and
// allocations per staffReviews request computing a community's month for
// 20 and for 200 staff (every role, a training session listing them all,
// complaints naming one in five),
// beside a bare authenticated query in the same run: the round trips must
// be the same at both sizes (one query per source for the batch, never one
// per staff member or item).
func BenchmarkMonthlyStaffReviews(b *testing.B) {
	var rt roundTrips
	db := mongo.NewTestDB(b, mongo.Options{Monitor: rt.monitor()})
	e := startServer(b, db)
	w := e.world()
	ctx := context.Background()
	svc := e.App.Services
	roles := []access.Role{access.Engineer, access.Butler, access.Cleaner, access.Security, access.CustomerService}
	var ids, named []string
	owner := e.owner(w.OwnerA.Phone)
	hire := func(n int) {
		for i := len(ids); i < n; i++ {
			st, err := svc.Staff.Upsert(ctx, &staff.Staff{Account: fmt.Sprintf("x.bench%03d", i), Name: fmt.Sprintf("员工%03d", i),
				Roles: []access.Role{roles[i%len(roles)]}, CommunityIDs: []string{w.X.ID}})
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, st.ID)
		}
		sup := &access.Caller{Kind: auth.KindStaff, ID: "bench-admin", Roles: []access.Role{access.Admin}}
		// One complaint naming every tenth staff member and the next: the
		// COMPLAINTS items grow with the batch, its queries must not.
		for i := len(named); i < n; i += 10 {
			var sub struct{ SubmitComplaint struct{ ID string } }
			owner.ok(`mutation($in:SubmitComplaintInput!){ submitComplaint(input:$in){ id } }`, map[string]any{"in": map[string]any{
				"householdId": w.HA.ID, "category": "STAFF_ATTITUDE", "description": fmt.Sprintf("投诉 %d", i)}}, &sub)
			if _, err := svc.Complaints.SetConcerns(ctx, sup, sub.SubmitComplaint.ID, nil, ids[i:i+2], ""); err != nil {
				b.Fatal(err)
			}
		}
		named = ids
		if _, err := svc.Reviews.RecordTraining(ctx, sup, review.TrainingInput{CommunityID: w.X.ID, Title: fmt.Sprintf("培训 %d", n),
			HeldAt: e.Clock.Now().Add(-time.Hour), DurationMinutes: 60, Trainer: "品质部", AttendeeIDs: ids[:n/2], AbsentIDs: ids[n/2:]}); err != nil {
			b.Fatal(err)
		}
	}
	c := e.staff(w.supervisorX, w.Password)
	month := e.Clock.Now().In(shanghaiZone).Format("2006-01")
	q := `query($c:ID!,$m:String!){ staffReviews(communityId:$c, month:$m){ staff { id } figures { key count met total } } }`
	run := func(name, q string, vars map[string]any) {
		b.Run(name, func(b *testing.B) {
			c.ok(q, vars, nil)
			rt.n.Store(0)
			rt.request.Store(0)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				c.ok(q, vars, nil)
			}
			b.ReportMetric(float64(rt.n.Load())/float64(b.N), "db-roundtrips/op")
			// The request's own: the schedulers' ticks in the background
			// also reach the database during a run.
			b.ReportMetric(float64(rt.request.Load())/float64(b.N), "request-roundtrips/op")
		})
	}
	run("baseline=me", `{ me { kind } }`, nil)
	for _, n := range []int{20, 200} {
		hire(n)
		run(fmt.Sprintf("staffReviews/staff=%d", n), q, map[string]any{"c": w.X.ID, "m": month})
	}
}
