package notify

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

// listed is a source's work list of jobs waiting for their callback.
type listed []Awaiting

func (l listed) AwaitingCallbackBefore(context.Context, time.Time, int) ([]Awaiting, error) {
	return l, nil
}

// hoursBook answers contact hours and counts the lookups.
type hoursBook struct {
	hours map[string]string
	calls int
	asked []string
}

func (h *hoursBook) ContactHoursOf(_ context.Context, ids []string) (map[string]string, error) {
	h.calls++
	h.asked = append(h.asked, ids...)
	return h.hours, nil
}

// A reminder round over two sources reads every resident's contact hours in
// one lookup, asks only for the residents whose callback is due, and each
// butler's reminder quotes their own resident's hours.
func TestRemindersReadContactHoursOncePerRound(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	now := noon()
	e := NewEngine(EngineConfig{DB: db, Channels: []string{ChannelFCM}, Now: noon})
	day := now.Add(-25 * time.Hour)
	repairs, orders := RepairSource(nil), ServiceOrderSource(nil)
	repairs.Awaiting = listed{
		{ID: "r1", CommunityID: "c", Round: 1, Summary: "厨房灯不亮", SignedOffAt: day, Rated: true, StaffID: "s1", ResidentID: "p1"},
		{ID: "r2", CommunityID: "c", Round: 1, Summary: "阳台漏水", SignedOffAt: now.Add(-3 * time.Hour), Rated: true, StaffID: "s1", ResidentID: "p9"},
	}
	orders.Awaiting = listed{{ID: "o1", CommunityID: "c", Round: 1, Summary: "日常保洁", SignedOffAt: day, Rated: true, StaffID: "s2", SignerID: "p2"}}
	book := &hoursBook{hours: map[string]string{"p1": "上午 9:00-11:00", "p2": "下午 15:00-17:00"}}
	m := NewReminders(e, []Source{repairs, orders}, nil, ReminderConfig{OverdueAfter: 1000 * time.Hour}, nil).WithContactHours(book)
	if err := m.Tick(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	if book.calls != 1 || fmt.Sprint(book.asked) != "[p1 p2]" {
		t.Fatalf("%d lookups asking %v; want one asking [p1 p2] (p9's callback is not due)", book.calls, book.asked)
	}
	for staff, want := range map[string]string{"s1": "「厨房灯不亮」已验收，请及时回访业主。方便联系时间：上午 9:00-11:00。", "s2": "方便联系时间：下午 15:00-17:00。"} {
		var n Notification
		if err := db.Collection("notifications").FindOne(context.Background(), bson.D{{Key: "recipientId", Value: staff}, {Key: "kind", Value: CallbackDue}}).Decode(&n); err != nil {
			t.Fatalf("%s: %v", staff, err)
		}
		if !strings.Contains(n.Body, want) {
			t.Fatalf("%s got %q, want %q", staff, n.Body, want)
		}
	}
}
