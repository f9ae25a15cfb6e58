package survey

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/page"
)

// system is the actor of the scheduler's steps.
var system = &access.Caller{Kind: auth.KindStaff, ID: "system:survey", Roles: []access.Role{access.Admin}}

// managed loads a survey the caller may see and must manage.
func (s *Service) managed(ctx context.Context, c *access.Caller, id string) (*Survey, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	if !c.IsStaff() {
		return nil, apperr.ErrForbidden
	}
	sv, _, err := s.visible(ctx, c, "id", id)
	if err != nil {
		return nil, err
	}
	if !manages(c, sv.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	return sv, nil
}

// Publish opens a draft to its audience and invites every resident in it
// (owners, family and tenants of its households) once, with a
// SURVEY_INVITATION delivered from opensAt. The audience is counted here:
// the response rate is taken against it. Once the step is stored, Publish
// succeeds; an invitation fan-out cut short is finished by Tick, and the
// engine's keys keep every invitation single.
func (s *Service) Publish(ctx context.Context, c *access.Caller, id string) (*Survey, error) {
	sv, err := s.managed(ctx, c, id)
	if err != nil {
		return nil, err
	}
	to, err := Machine.Next("publish", sv.Status)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now().UTC()
	if !sv.ClosesAt.After(now) {
		return nil, ErrWindowOver
	}
	var out Survey
	entry := lifecycle.Entry{At: now, Action: "publish", From: string(sv.Status), To: string(to), ActorID: c.ID, ActorKind: string(c.Kind)}
	if err := s.steps.Apply(ctx, sv.ID, sv.Version, entry, bson.D{{Key: "publishedAt", Value: now}}, &out); err != nil {
		return nil, err
	}
	s.publish(ctx, c, &out, "published")
	if err := s.invite(context.WithoutCancel(ctx), &out); err != nil {
		s.cfg.Log.ErrorContext(ctx, "survey invitations cut short; the scheduler finishes them", "survey", out.ID, "err", err)
	}
	return &out, s.decorate(ctx, c, []*Survey{&out}, nil)
}

// Close stops a published survey before its closing time.
func (s *Service) Close(ctx context.Context, c *access.Caller, id string) (*Survey, error) {
	sv, err := s.managed(ctx, c, id)
	if err != nil {
		return nil, err
	}
	out, err := s.close(ctx, c, sv, s.cfg.Now().UTC())
	if err != nil {
		return nil, err
	}
	return out, s.decorate(ctx, c, []*Survey{out}, nil)
}

func (s *Service) close(ctx context.Context, c *access.Caller, sv *Survey, at time.Time) (*Survey, error) {
	to, err := Machine.Next("close", sv.Status)
	if err != nil {
		return nil, err
	}
	if at.After(sv.ClosesAt) {
		at = sv.ClosesAt // the scheduler records when the window ended
	}
	var out Survey
	entry := lifecycle.Entry{At: s.cfg.Now().UTC(), Action: "close", From: string(sv.Status), To: string(to), ActorID: c.ID, ActorKind: string(c.Kind)}
	if err := s.steps.Apply(ctx, sv.ID, sv.Version, entry, bson.D{{Key: "closedAt", Value: at}}, &out); err != nil {
		return nil, err
	}
	s.publish(ctx, c, &out, "closed")
	return &out, nil
}

// invite sends the invitation to the whole audience and records its size.
func (s *Service) invite(ctx context.Context, sv *Survey) error {
	loc := s.cfg.Zone(sv.CommunityID)
	msg := notify.Message{
		Kind: notify.SurveyInvitation, Key: "survey:" + sv.ID + ":invitation", NotBefore: sv.OpensAt,
		Vars: map[string]any{"title": sv.Title, "text": fmt.Sprintf("诚邀您参加「%s」，开放时间 %s 至 %s，您的意见是我们改进服务的方向。",
			sv.Title, sv.OpensAt.In(loc).Format("1月2日 15:04"), sv.ClosesAt.In(loc).Format("1月2日 15:04"))},
		Data: map[string]string{"surveyId": sv.ID, "communityId": sv.CommunityID, "purpose": "invitation"},
	}
	households, persons, err := s.fanOut(ctx, sv, msg, false)
	if err != nil {
		return err
	}
	_, err = s.col.UpdateOne(ctx, bson.D{{Key: "_id", Value: sv.ID}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "invited", Value: true}, {Key: "audienceHouseholds", Value: households}, {Key: "audiencePersons", Value: persons}}}})
	if err != nil {
		return fmt.Errorf("mark survey %s invited: %w", sv.ID, err)
	}
	sv.Invited, sv.AudienceHouseholds, sv.AudiencePersons = true, households, persons
	return nil
}

// fanOut sends msg to the residents of the audience, a page of households
// (and one membership query) per Send. With skipAnswered it leaves out
// those who have answered: the households that answered (per household) or
// the persons who did (per person), found by derived response id, never
// stored anywhere. It returns the audience's households and distinct
// persons.
func (s *Service) fanOut(ctx context.Context, sv *Survey, msg notify.Message, skipAnswered bool) (households, persons int, err error) {
	seen, sent := map[string]bool{}, map[string]bool{}
	after := ""
	for {
		pg, err := s.cfg.Households.InAudience(ctx, sv.CommunityID, sv.BuildingIDs, page.Request{First: s.batch, After: after})
		if err != nil {
			return 0, 0, err
		}
		ids := make([]string, len(pg.Items))
		for i, h := range pg.Items {
			ids[i] = h.ID
		}
		ms, err := s.cfg.Households.MembershipsByHouseholds(ctx, ids)
		if err != nil {
			return 0, 0, err
		}
		answered := map[string]bool{}
		if skipAnswered {
			var rids []string
			for _, h := range ids {
				if sv.ResponsePer == PerHousehold {
					rids = append(rids, s.responseID(sv, h, ""))
					continue
				}
				for _, m := range ms[h] {
					rids = append(rids, s.responseID(sv, "", m.PersonID))
				}
			}
			if answered, err = s.existing(ctx, rids); err != nil {
				return 0, 0, err
			}
		}
		var rs []notify.Recipient
		for _, h := range ids {
			done := sv.ResponsePer == PerHousehold && answered[s.responseID(sv, h, "")]
			for _, m := range ms[h] {
				seen[m.PersonID] = true
				// A person in two flats of the audience is told once, and
				// reminded if either flat has not answered.
				if done || sent[m.PersonID] || (sv.ResponsePer == PerPerson && answered[s.responseID(sv, "", m.PersonID)]) {
					continue
				}
				sent[m.PersonID] = true
				rs = append(rs, notify.Recipient{Kind: auth.KindPerson, ID: m.PersonID, CommunityID: sv.CommunityID})
			}
		}
		households += len(ids)
		if len(rs) > 0 {
			msg.Recipients = rs
			if _, err := s.cfg.Sender.Send(ctx, msg); err != nil {
				return 0, 0, err
			}
		}
		if !pg.HasNext {
			return households, len(seen), nil
		}
		after = pg.Keys[len(pg.Keys)-1]
	}
}

// resumeAfter leaves a just-published survey's fan-out to the server doing
// it before the scheduler takes it on.
const resumeAfter = time.Minute

// tickBatch bounds the surveys one Tick handles per kind of work.
const tickBatch = 100

// Tick does what the calendar decides: it finishes invitation fan-outs cut
// short, reminds the audience members who have not answered ReminderBefore
// closing, and closes surveys whose window has ended. Every server calls it:
// the engine's keys make each invitation and reminder reach a person once
// even if two servers send it, the reminded mark stops later Ticks, and
// closing is a guarded lifecycle step only one server wins.
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	// One tick at a time per process; a caller waits, so a returned Tick
	// has done what was due at now.
	s.tickMu.Lock()
	defer s.tickMu.Unlock()
	now = now.UTC()
	return errors.Join(s.resumeInvitations(ctx, now), s.remind(ctx, now), s.closeEnded(ctx, now))
}

func (s *Service) due(ctx context.Context, q bson.D) ([]*Survey, error) {
	cur, err := s.col.Find(ctx, q, options.Find().SetLimit(tickBatch).SetProjection(bson.D{{Key: "timeline", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("find due surveys: %w", err)
	}
	var out []*Survey
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("find due surveys: %w", err)
	}
	return out, nil
}

func (s *Service) resumeInvitations(ctx context.Context, now time.Time) error {
	list, err := s.due(ctx, bson.D{{Key: "status", Value: Published}, {Key: "invited", Value: false},
		{Key: "publishedAt", Value: bson.D{{Key: "$lt", Value: now.Add(-resumeAfter)}}}, {Key: "closesAt", Value: bson.D{{Key: "$gt", Value: now}}}})
	if err != nil {
		return err
	}
	var errs []error
	for _, sv := range list {
		errs = append(errs, s.invite(ctx, sv))
	}
	return errors.Join(errs...)
}

func (s *Service) remind(ctx context.Context, now time.Time) error {
	list, err := s.due(ctx, bson.D{{Key: "status", Value: Published}, {Key: "remindAt", Value: bson.D{{Key: "$lte", Value: now}}},
		{Key: "reminded", Value: false}, {Key: "closesAt", Value: bson.D{{Key: "$gt", Value: now}}}})
	if err != nil {
		return err
	}
	var errs []error
	for _, sv := range list {
		loc := s.cfg.Zone(sv.CommunityID)
		msg := notify.Message{
			Kind: notify.SurveyInvitation, Key: "survey:" + sv.ID + ":reminder",
			Vars: map[string]any{"title": sv.Title, "text": fmt.Sprintf("「%s」将于 %s 截止，您还没有作答，期待听到您的意见。",
				sv.Title, sv.ClosesAt.In(loc).Format("1月2日 15:04"))},
			Data: map[string]string{"surveyId": sv.ID, "communityId": sv.CommunityID, "purpose": "reminder"},
		}
		if _, _, err := s.fanOut(ctx, sv, msg, true); err != nil {
			errs = append(errs, fmt.Errorf("remind survey %s: %w", sv.ID, err))
			continue
		}
		if _, err := s.col.UpdateOne(ctx, bson.D{{Key: "_id", Value: sv.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "reminded", Value: true}}}}); err != nil {
			errs = append(errs, fmt.Errorf("mark survey %s reminded: %w", sv.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) closeEnded(ctx context.Context, now time.Time) error {
	list, err := s.due(ctx, bson.D{{Key: "status", Value: Published}, {Key: "closesAt", Value: bson.D{{Key: "$lte", Value: now}}}})
	if err != nil {
		return err
	}
	var errs []error
	for _, sv := range list {
		if _, err := s.close(ctx, system, sv, now); err != nil && !errors.Is(err, lifecycle.ErrStale) && !errors.Is(err, lifecycle.ErrIllegal) {
			errs = append(errs, fmt.Errorf("close survey %s: %w", sv.ID, err))
		}
	}
	return errors.Join(errs...)
}
