package events

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/mongo"
)

// Two processes take turns on one subject, each step published after the
// previous one's Publish returned, as a butler's dispatch on one server and
// the engineer's accept on another. Their ObjectIDs share a second and sort
// backwards, as ids of two processes within one second may; every
// subscriber, on either process, still hears the steps in the order they
// were published.
func TestStepsFromTwoProcessesArriveInPublishOrder(t *testing.T) {
	dbA := mongo.NewTestDB(t, mongo.Options{})
	a, b := NewBus(dbA, testLog(t)), NewBus(secondProcess(t, dbA), testLog(t))
	const steps = 30
	chA, _ := a.Subscribe(nil, steps)
	chB, _ := b.Subscribe(nil, steps)
	run(t, a)
	run(t, b)

	second := uint32(time.Now().Unix())
	for i := range steps {
		var id bson.ObjectID
		binary.BigEndian.PutUint32(id[:4], second)
		binary.BigEndian.PutUint64(id[4:], uint64(steps-i)) // later step, smaller id
		on := a
		if i%2 == 1 {
			on = b
		}
		publish(t, on, Event{ID: id, Type: "repair.step", SubjectID: "r1", Data: map[string]any{"step": i}})
	}
	for name, ch := range map[string]<-chan Event{"process A": chA, "process B": chB} {
		var got []string
		for range steps {
			got = append(got, fmt.Sprint(recv(t, ch).Data["step"]))
		}
		for i, s := range got {
			if s != fmt.Sprint(i) {
				t.Fatalf("%s heard the steps as %v", name, got)
			}
		}
	}
}
