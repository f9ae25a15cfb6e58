package outcome

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
)

// UpdateAction moves a promised action's status, keeping the move in its
// history: forward (PROMISED → IN_PROGRESS → DONE) or DROPPED with a
// reason; DONE and DROPPED are final. Only the latest version's actions
// move (a corrected version is frozen: CONFLICT). Writers of the outcomes;
// residents FORBIDDEN; anyone else NOT_FOUND. Two updates at once: the
// later gets CONFLICT (reload and try again), never a lost update.
func (s *Service) UpdateAction(ctx context.Context, c *access.Caller, id string, status ActionStatus, note *string) (*Action, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	outcomesID, key, ok := ParseActionID(id)
	if !ok {
		return nil, apperr.Invalid("id", "input.bad_id")
	}
	communityID, _, _, _ := ParseID(outcomesID)
	if !mayRead(c, communityID) {
		return nil, ErrActionNotFound
	}
	if !mayWrite(c, communityID) {
		return nil, apperr.ErrForbidden
	}
	if !slices.Contains(ActionStatuses, status) {
		return nil, apperr.Invalid("status", "input.bad_value")
	}
	n, err := text("note", note, MaxNote)
	if err != nil {
		return nil, err
	}
	if status == Dropped && n == "" {
		return nil, apperr.Invalid("note", "outcome.note_required")
	}
	var o Outcomes
	if err := s.outcomes.FindOne(ctx, bson.D{{Key: "_id", Value: outcomesID}}).Decode(&o); err != nil {
		if errors.Is(err, mgo.ErrNoDocuments) {
			return nil, ErrActionNotFound
		}
		return nil, fmt.Errorf("load outcomes %s: %w", outcomesID, err)
	}
	o.adopt()
	a := o.Action(key)
	if a == nil {
		return nil, ErrActionNotFound
	}
	if o.SupersededBy != "" {
		return nil, ErrSuperseded
	}
	if !a.Open() {
		return nil, ErrActionClosed
	}
	if !slices.Contains(next[a.Status], status) {
		return nil, apperr.Invalid("status", "outcome.bad_move", a.Status, status)
	}
	at := s.cfg.Now().UTC()
	a.Status, a.StatusAt = status, at
	a.History = append(a.History, Change{Status: status, Note: n, At: at, By: c.ID})
	// The whole list is written back (no positional updates on both
	// databases), guarded by the rev read: the document is one unit.
	res, err := s.outcomes.UpdateOne(ctx, bson.D{{Key: "_id", Value: o.ID}, {Key: "rev", Value: o.Rev}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "actions", Value: o.Actions}}}, {Key: "$inc", Value: bson.D{{Key: "rev", Value: 1}}}})
	if err != nil {
		return nil, fmt.Errorf("update action %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		return nil, ErrActionMoved
	}
	return a, nil
}
