package vote

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
)

// Close counts a vote whose period has ended and stores the result, which
// never changes after: the chair or a vice-chair of the committee, a
// supervisor of the community or an admin (the scheduler closes it too,
// see Tick). Residents get the result notice (VOTE_RESULT_PUBLISHED).
func (s *Service) Close(ctx context.Context, c *access.Caller, id string) (*Vote, error) {
	v, err := s.readable(ctx, c, id)
	if err != nil {
		return nil, err
	}
	allowed := staffWriter(c, v.CommunityID)
	if !allowed && c.IsPerson() && mayRead(c, v.CommunityID) {
		r, err := s.cfg.Committee.RoleOf(ctx, c, v.CommunityID)
		if err != nil {
			return nil, err
		}
		allowed = leads(r)
	}
	if !allowed {
		return nil, apperr.ErrForbidden
	}
	return s.close(ctx, v, c.ID)
}

func (s *Service) close(ctx context.Context, v *Vote, by string) (*Vote, error) {
	now := s.cfg.Now().UTC()
	switch {
	case v.State == Closed:
		return nil, ErrClosed
	case v.State != Open:
		return nil, ErrNotOpen
	case now.Before(v.ClosesAt):
		return nil, ErrStillRunning
	}
	// Seal first: after these writes no ballot can land, so what is counted
	// is all there will ever be. They are repeatable, so a close cut short
	// is finished by the next one.
	if v.SealedAt == nil {
		if _, err := s.votes.UpdateOne(ctx, bson.D{{Key: "_id", Value: v.ID}, {Key: "state", Value: Open}, {Key: "sealedAt", Value: nil}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "sealedAt", Value: now}}}}); err != nil {
			return nil, fmt.Errorf("seal vote %s: %w", v.ID, err)
		}
	}
	if err := s.seal(ctx, v); err != nil {
		return nil, err
	}
	r, err := s.count(ctx, v)
	if err != nil {
		return nil, err
	}
	res, err := s.votes.UpdateOne(ctx, bson.D{{Key: "_id", Value: v.ID}, {Key: "state", Value: Open}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "state", Value: Closed}, {Key: "result", Value: r}, {Key: "closedAt", Value: now}, {Key: "closedBy", Value: by},
		{Key: "noticed", Value: false},
	}}})
	if err != nil {
		return nil, fmt.Errorf("store the result of vote %s: %w", v.ID, err)
	}
	if res.MatchedCount == 0 {
		return nil, ErrClosed // another close stored the same count first
	}
	v.State, v.Result, v.ClosedAt, v.ClosedBy = Closed, r, &now, by
	if v.SealedAt == nil {
		v.SealedAt = &now
	}
	if err := s.noticeResult(ctx, v); err != nil && s.cfg.Log != nil {
		s.cfg.Log.WarnContext(ctx, "vote result notice incomplete; Tick resumes it", "vote", v.ID, "err", err)
	}
	return v, nil
}

// seal puts a seal in the ballot place of every unit of the register that
// has none: one streamed read of the register and one unordered insert, in
// which the units already cast are the expected duplicates.
func (s *Service) seal(ctx context.Context, v *Vote) error {
	var seals []any
	err := mongo.Stream(ctx, s.units, bson.D{{Key: "voteId", Value: v.ID}, {Key: "snapshot", Value: v.Snapshot}}, bson.D{{Key: "_id", Value: 1}},
		"register of vote "+v.ID, func(u *struct {
			ID string `bson:"_id"`
		}) error {
			seals = append(seals, ballot{ID: u.ID, VoteID: v.ID, Snapshot: v.Snapshot, Sealed: true})
			return nil
		})
	if err != nil || len(seals) == 0 {
		return err
	}
	_, err = s.ballots.InsertMany(ctx, seals, options.InsertMany().SetOrdered(false))
	if err != nil && !onlyDuplicates(err) {
		return fmt.Errorf("seal the ballot box of vote %s: %w", v.ID, err)
	}
	return nil
}

// onlyDuplicates reports an unordered insert whose every failure is a
// duplicate key.
func onlyDuplicates(err error) bool {
	var bwe mgo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != 11000 {
			return false
		}
	}
	return true
}

// count reads the vote's cast ballots (one streamed, projected query) and
// applies the rule.
func (s *Service) count(ctx context.Context, v *Vote) (*Result, error) {
	idx := make(map[string]int, len(v.Options))
	tallies := make([]Tally, len(v.Options))
	abstain := make([]bool, len(v.Options))
	for i, o := range v.Options {
		idx[o.ID], abstain[i] = i, o.Abstain
	}
	var participating Tally
	type cast struct {
		Choice string `bson:"choice"`
		Area   int64  `bson:"area"`
	}
	err := mongo.Stream(ctx, s.ballots, bson.D{{Key: "voteId", Value: v.ID}, {Key: "snapshot", Value: v.Snapshot}, {Key: "sealed", Value: false}},
		bson.D{{Key: "_id", Value: 0}, {Key: "choice", Value: 1}, {Key: "area", Value: 1}}, "ballots of vote "+v.ID, func(b *cast) error {
			i, ok := idx[b.Choice]
			if !ok {
				return fmt.Errorf("vote %s: a ballot for unknown option %q", v.ID, b.Choice)
			}
			tallies[i].Add(b.Area)
			participating.Add(b.Area)
			return nil
		})
	if err != nil {
		return nil, err
	}
	outcome, reached, adopted := Decide(v.Rule, v.Electorate, participating, tallies, abstain)
	r := &Result{Participating: participating, ParticipationMet: Participated(v.Electorate, participating), Outcome: outcome}
	for i, o := range v.Options {
		r.Options = append(r.Options, OptionResult{OptionID: o.ID, Tally: tallies[i], Reached: reached[i]})
	}
	if adopted >= 0 {
		r.AdoptedOptionID = v.Options[adopted].ID
	}
	return r, nil
}

// Tick closes the votes whose period has ended and finishes result notices
// cut short. Every server may run it: a second close of one vote stores
// nothing (the state guard) and the engine's keys deliver each notice once.
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	due, err := mongo.FindAll[Vote](ctx, s.votes, bson.D{{Key: "state", Value: Open}, {Key: "closesAt", Value: bson.D{{Key: "$lte", Value: now.UTC()}}}},
		"votes due to close", options.Find().SetLimit(20))
	if err != nil {
		return err
	}
	for _, v := range due {
		if _, err := s.close(ctx, v, ""); err != nil && !errors.Is(err, ErrClosed) {
			return err
		}
	}
	pending, err := mongo.FindAll[Vote](ctx, s.votes, bson.D{{Key: "noticed", Value: false}, {Key: "closedAt", Value: bson.D{{Key: "$lt", Value: now.UTC().Add(-noticeResume)}}}},
		"vote result notices", options.Find().SetLimit(20))
	if err != nil {
		return err
	}
	for _, v := range pending {
		if err := s.noticeResult(ctx, v); err != nil {
			return err
		}
	}
	return nil
}
