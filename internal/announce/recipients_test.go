package announce

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
)

// An announcement stored before recipient lists were kept gets its list
// from the notification inbox (who it was actually sent to), not from the
// audience as it is now: a household that gained the flag since does not
// start seeing it. Until the sweep has written the list, no resident sees it.
func TestLegacyAnnouncementTakesItsRecipientsFromTheInbox(t *testing.T) {
	w := newWorld(t)
	a := w.publish(t, w.butlerX, Input{Kind: WarmTip, Title: "防滑提醒", Body: "雨天路滑，独居老人请勿外出。",
		Audience: Audience{CareFlags: []archive.Flag{archive.ElderlyAlone}}})
	if _, err := w.db.Collection("announcements").UpdateOne(ctx, bson.D{{Key: "_id", Value: a.ID}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "recipientsFixed", Value: ""}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Collection("announcement_recipients").DeleteMany(ctx, bson.D{{Key: "announcementId", Value: a.ID}}); err != nil {
		t.Fatal(err)
	}
	households := household.NewService(w.db, community.NewService(w.db, "co", w.clock.Now), nil, nil, w.clock.Now)
	if err := households.SetCareFlags(ctx, w.HB.ID, []string{string(archive.ElderlyAlone), string(archive.Hardship)}); err != nil {
		t.Fatal(err)
	}
	if got := w.list(t, w.ownerA); len(got) != 0 {
		t.Errorf("before the migration a resident sees %v", ids(got))
	}
	if n, err := w.svc.ResumePending(ctx); err != nil || n != 1 {
		t.Fatalf("resume: %d %v", n, err)
	}
	for _, tc := range []struct {
		name   string
		caller *access.Caller
		sees   bool
	}{{"owner A (a recipient)", w.ownerA, true}, {"family A (a recipient)", w.familyA, true}, {"owner B (flagged since)", w.ownerB, false}} {
		_, err := w.svc.Get(ctx, tc.caller, a.ID)
		if (err == nil) != tc.sees || (!tc.sees && code(err) != apperr.NotFound) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	got, err := w.svc.Get(ctx, w.supervisorX, a.ID)
	if err != nil || got.Recipients != 2 || !got.RecipientsFixed {
		t.Fatalf("after the migration: %+v %v", got, err)
	}
	if n, err := w.svc.ResumePending(ctx); err != nil || n != 0 {
		t.Errorf("second sweep: %d %v", n, err)
	}
}
