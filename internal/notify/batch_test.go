package notify

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

// A batch of messages, each its own recipients and variables: one entry per
// recipient and message, rendered with that message's variables and
// numbered within its subject after what the subject already had; sent
// again, nothing more.
func TestSendEach(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	e := NewEngine(EngineConfig{DB: db, Channels: []string{ChannelFCM}, Now: noon})
	ctx := context.Background()
	rs := recipients(5)
	// The first bill's subject already has a message.
	if _, err := e.Send(ctx, Message{Kind: FeeBillIssued, Key: "bill:1:earlier", Subject: "bill:1", Recipients: rs[:1],
		Vars: map[string]any{"period": "2026-10", "amount": "1.00"}}); err != nil {
		t.Fatal(err)
	}
	var msgs []Message
	for i := range 3 {
		msgs = append(msgs, Message{Kind: FeeBillIssued, Key: fmt.Sprintf("bill:%d:issued", i), Subject: fmt.Sprintf("bill:%d", i),
			Recipients: rs[i : i+2], Vars: map[string]any{"label": fmt.Sprintf("1-%d", i), "period": "2026-11", "amount": fmt.Sprintf("%d.00", 100+i), "dueDate": "2026-11-30"}})
	}
	n, err := e.SendEach(ctx, msgs)
	if err != nil || n != 6 {
		t.Fatalf("sent %d, %v; want 6", n, err)
	}
	var got Notification
	if err := db.Collection("notifications").FindOne(ctx, bson.D{{Key: "_id", Value: notificationID(rs[2].ID, "bill:1:issued")}}).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Body == "" || !strings.Contains(got.Body, "101.00") || got.Data[DataSeq] != "2" || got.Data[DataSubject] != "bill:1" || got.Data["kind"] != string(FeeBillIssued) {
		t.Fatalf("entry %+v", got)
	}
	if n, err := e.SendEach(ctx, msgs); err != nil || n != 0 {
		t.Fatalf("sent again: %d, %v", n, err)
	}
	if c := count(t, db, "notifications", bson.D{}); c != 7 {
		t.Fatalf("%d notifications, want 7", c)
	}
}
