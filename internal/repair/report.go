package repair

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/mongo"
)

// RoundDeadlines are the deadlines one round ran under.
type RoundDeadlines struct {
	Round     int `bson:"round"`
	Deadlines `bson:",inline"`
}

// DeadlinesOf returns the deadlines round ran under: the current ones for
// the current round, the kept ones for a round reopened since. ok is false
// for a round with no record (reopened before rounds were kept).
func (r *Request) DeadlinesOf(round int) (Deadlines, bool) {
	if round == r.Round {
		return r.Deadlines, true
	}
	for _, p := range r.PastDeadlines {
		if p.Round == round {
			return p.Deadlines, true
		}
	}
	return Deadlines{}, false
}

// StatusAt is the request's status just before t, replayed from its
// timeline ("" before it was submitted).
func (r *Request) StatusAt(t time.Time) Status {
	st := Status("")
	for _, e := range r.Timeline {
		if !e.At.Before(t) {
			break
		}
		st = Status(e.To)
	}
	return st
}

// OpenAt reports a request still being worked on just before t (submitted,
// taken, dispatched, accepted or in progress; see openStates).
func (r *Request) OpenAt(t time.Time) bool { return slices.Contains(openStates, r.StatusAt(t)) }

// OverdueAt reports a request open just before t whose stage had run past
// its deadline: the queue's overdue flag (see nextDeadline), at t.
func (r *Request) OverdueAt(t time.Time) bool {
	st, round := Status(""), 1
	for _, e := range r.Timeline {
		if !e.At.Before(t) {
			break
		}
		st = Status(e.To)
		if e.Action == "callback_reopen" {
			round++
		}
	}
	if !slices.Contains(openStates, st) {
		return false
	}
	dl, ok := r.DeadlinesOf(round)
	if !ok {
		return false
	}
	due := nextDeadline(&Request{Deadlines: dl}, st)
	return due != nil && t.After(*due)
}

// reportFields are what the KPIs read of a request: whether it owes a
// callback (OwesCallback: reporter and public area), how it came in
// (intake channel, staff filer), its state, rounds,
// deadlines, step times and outcomes; never photos, materials or notes.
var reportFields = bson.D{
	{Key: "status", Value: 1}, {Key: "round", Value: 1}, {Key: "reporterId", Value: 1}, {Key: "public.kind", Value: 1}, {Key: "submittedAt", Value: 1}, {Key: "updatedAt", Value: 1},
	{Key: "intake.channel", Value: 1}, {Key: "filedBy", Value: 1},
	{Key: "deadlines", Value: 1}, {Key: "pastDeadlines", Value: 1},
	{Key: "workOrders.round", Value: 1}, {Key: "workOrders.startedAt", Value: 1}, {Key: "workOrders.completedAt", Value: 1},
	{Key: "acceptances.round", Value: 1}, {Key: "acceptances.at", Value: 1},
	{Key: "callbacks.round", Value: 1}, {Key: "callbacks.satisfied", Value: 1}, {Key: "callbacks.at", Value: 1},
	{Key: "timeline.at", Value: 1}, {Key: "timeline.action", Value: 1}, {Key: "timeline.to", Value: 1},
}

// ForReport streams, in one indexed query, every request of the community
// that a report over [from, to) may need, with only reportFields: those
// submitted before to that either changed since from (every step in the
// window moved updatedAt), are still open (their state at the window's end,
// and deadlines they are missing), or carry a deadline (this round's or an
// earlier one's; finishBy is the latest of each set) falling due from from
// on. fn sees each once; an error from fn stops the stream.
func (s *Service) ForReport(ctx context.Context, communityID string, from, to time.Time, fn func(*Request) error) error {
	from, to = from.UTC(), to.UTC()
	branch := func(e bson.E) bson.D {
		return bson.D{{Key: "communityId", Value: communityID}, e, {Key: "submittedAt", Value: bson.D{{Key: "$lt", Value: to}}}}
	}
	q := bson.D{{Key: "$or", Value: bson.A{
		branch(bson.E{Key: "updatedAt", Value: bson.D{{Key: "$gte", Value: from}}}),
		branch(bson.E{Key: "status", Value: bson.D{{Key: "$in", Value: openStates}}}),
		branch(bson.E{Key: "deadlines.finishBy", Value: bson.D{{Key: "$gte", Value: from}}}),
		branch(bson.E{Key: "pastDeadlines.finishBy", Value: bson.D{{Key: "$gte", Value: from}}}),
	}}}
	return mongo.Stream(ctx, s.col, q, reportFields, "repair requests for report", fn)
}

func init() {
	// ForReport's branches; the open branch uses the queue's
	// communityId+status index.
	mongo.Declare(mongo.Indexes{Collection: "repair_requests", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "updatedAt", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "deadlines.finishBy", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "pastDeadlines.finishBy", Value: 1}}},
	}})
}
