package notify

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

// A fire alarm a night guard reports at 23:00 wakes the security supervisor;
// a water leak waits for the end of their quiet hours.
func TestIncidentUrgentGoesInQuietHours(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	late := func() time.Time { return time.Date(2026, 9, 25, 15, 0, 0, 0, time.UTC) } // 23:00 in Shanghai
	e := NewEngine(EngineConfig{DB: db, Channels: []string{ChannelFCM}, Now: late})
	lead := []Recipient{{Kind: auth.KindStaff, ID: "staff-lead", CommunityID: "c1"}}
	vars := map[string]any{"type": "火警", "typeEN": "fire alarm", "place": "东门", "time": "9月25日 22:55", "timeEN": "Sep 25 22:55", "reporter": "张三", "reporterEN": "张三"}
	for key, kind := range map[string]Kind{"incident:reported:a": IncidentUrgent, "incident:reported:b": IncidentReported} {
		if _, err := e.Send(context.Background(), Message{Kind: kind, Key: key, Recipients: lead, Vars: vars}); err != nil {
			t.Fatal(err)
		}
	}
	due := func(kind Kind) time.Time {
		var d Delivery
		if err := db.Collection("deliveries").FindOne(context.Background(), bson.D{{Key: "kind", Value: kind}}).Decode(&d); err != nil {
			t.Fatal(err)
		}
		return d.NextAttemptAt
	}
	if got := due(IncidentUrgent); !got.Equal(late()) {
		t.Errorf("an urgent incident waits until %v", got)
	}
	if got, morning := due(IncidentReported), time.Date(2026, 9, 26, 0, 0, 0, 0, time.UTC); !got.Equal(morning) {
		t.Errorf("a non-urgent incident at 23:00 is due %v, want 08:00", got)
	}
}
