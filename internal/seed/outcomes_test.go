package seed

import (
	"context"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/complaint"
	"qinqing/internal/notify"
	"qinqing/internal/outcome"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/survey"
)

// Last month's outcomes of the first community: counts from the complaints
// and enquiries replayed into that month, both improve-first items of the
// seeded survey answered, one improvement done and one under way; a rerun
// publishes nothing again.
func TestSeedOutcomes(t *testing.T) {
	ctx := context.Background()
	db := mongo.NewTestDB(t, mongo.Options{})
	clock := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	d := newDeps(db, testCompany, func() time.Time { return clock })
	now := d.Clock.Now
	d.Complaints = complaint.NewService(db, d.Households, nil, nil, nil, now)
	zone := func(string) *time.Location { return time.FixedZone("CST", 8*3600) }
	d.Surveys = survey.NewService(survey.Config{DB: db, Households: d.Households, Communities: d.Communities, Sender: quietSender{},
		Zone: zone, Secret: []byte("seed-test"), Now: now})
	d.Outcomes = outcome.NewService(outcome.Config{DB: db, Places: d.Communities, Complaints: d.Complaints, Enquiries: d.Enquiries,
		Surveys: d.Surveys, Residents: d.Households, Zone: zone, Now: now})
	for run := range 2 {
		res, err := Run(ctx, d, Options{Households: 8})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		c := res.Communities[0].ID
		reader := &access.Caller{Kind: auth.KindStaff, ID: "t", Roles: []access.Role{access.Supervisor}, Communities: []string{c}}
		o, err := d.Outcomes.Get(ctx, reader, outcome.OutcomesID(c, "2026-02", 1))
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if len(o.Versions) != 1 || outcome.Total(o.Complaints) != 3 || o.Complaints[0].Count != 2 || outcome.Total(o.Enquiries) != 3 ||
			len(o.Surveys) != 1 || len(o.Surveys[0].Items) != 2 || o.Actions[0].Status != outcome.Done || o.Actions[2].Status != outcome.InProgress {
			t.Fatalf("run %d: %+v", run, o)
		}
		acts, err := d.Outcomes.SurveyActions(ctx, c, "2026-02")
		if err != nil || len(acts) != 2 || acts[0].Dimension != survey.Cleaning || acts[1].Dimension != survey.Parking {
			t.Fatalf("run %d: survey actions %+v %v", run, acts, err)
		}
		clock = clock.Add(26 * time.Hour)
	}
}

// quietSender stands in for the notification engine, which the seed's
// services run without: the survey's invitations go nowhere.
type quietSender struct{}

func (quietSender) Send(context.Context, notify.Message) (int, error) { return 0, nil }
