package facility

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/platform/apperr"
)

// A completion key answers retries while an upload could still be
// accepted; the scheduler drops it after that, and a replay of the old
// upload is then refused as too old rather than recorded again.
func TestCompletionKeysArePrunedWhenUseless(t *testing.T) {
	f := newFixture(t)
	f.liftPlan("2026-11-02")
	f.must(f.svc.Tick(ctx, f.clock.Now()))
	o := f.orders(OrderFilter{CommunityID: f.x.ID})[0]
	doneAt := time.Date(2026, 11, 2, 11, 0, 0, 0, shanghai)
	f.clock.Set(doneAt)
	in := CompleteInput{OrderID: o.ID, DoneAt: doneAt, IdempotencyKey: "key-prune-1",
		Results: []CheckResult{{Step: "曳引机润滑", OK: true}, {Step: "门机调整", OK: true}, {Step: "安全钳测试", OK: true}}}
	_, err := f.svc.CompleteMaintenance(ctx, f.eng, in)
	f.must(err)
	keys := func() int64 {
		n, err := f.svc.keys.CountDocuments(ctx, bson.D{})
		f.must(err)
		return n
	}
	// A week on (and five minutes of skew), the key still answers.
	f.clock.Set(doneAt.Add(MaxOffline + MaxSkew))
	f.must(f.svc.Tick(ctx, f.clock.Now()))
	if keys() != 1 {
		t.Fatal("pruned while a retry could still be accepted")
	}
	if again, err := f.svc.CompleteMaintenance(ctx, f.eng, in); err != nil || again.Status != Done {
		t.Fatalf("retry within the week: %v %+v", err, again)
	}
	f.clock.Set(doneAt.Add(keyLife + time.Minute))
	f.must(f.svc.Tick(ctx, f.clock.Now()))
	if keys() != 0 {
		t.Fatal("a useless key was kept")
	}
	_, err = f.svc.CompleteMaintenance(ctx, f.eng, in)
	f.code(err, apperr.BadUserInput)
}
