package outcome

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/complaint"
	"qinqing/internal/enquiry"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/period"
	"qinqing/internal/platform/validate"
	"qinqing/internal/survey"
)

// ExampleInput is one example as written.
type ExampleInput struct {
	Kind       ExampleKind
	Category   string
	Summary    string
	Resolution string
}

// ActionInput is a promise as written. Continues names an action of the
// version being corrected whose status and history this one carries on.
type ActionInput struct {
	Text      string
	Due       string
	Continues *string
}

// SurveyActionInput answers one improve-first item of a survey.
type SurveyActionInput struct {
	SurveyID  string
	Dimension survey.Dimension
	ActionInput
}

// Input is a period's outcomes as staff write them; the counts and the
// surveys' items are taken from the record.
type Input struct {
	Examples      []ExampleInput
	Improvements  []ActionInput
	SurveyActions []SurveyActionInput
	Remarks       *string
	ChangeNote    *string
}

// Publish publishes the period's outcomes as its next version: version 1,
// or n+1 naming version n and saying what changed. The period must have
// ended. Every improve-first item of every survey that closed in the
// period must be answered with an action. Residents are notified
// (OUTCOMES_PUBLISHED); a notice cut short is finished by Tick.
func (s *Service) Publish(ctx context.Context, c *access.Caller, communityID, periodText string, in Input) (*Outcomes, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	if !mayRead(c, communityID) {
		return nil, community.ErrNotFound.WithField("communityId")
	}
	if !mayWrite(c, communityID) {
		return nil, apperr.ErrForbidden
	}
	cs, err := s.cfg.Places.ByIDs(ctx, []string{communityID})
	if err != nil {
		return nil, err
	}
	if cs[communityID] == nil {
		return nil, community.ErrNotFound.WithField("communityId")
	}
	p, err := period.Parse("period", periodText)
	if err != nil {
		return nil, err
	}
	now, loc := s.cfg.Now(), s.Zone(communityID)
	from, to := p.Start(loc), p.End(loc)
	if to.After(now) {
		return nil, apperr.Invalid("period", "period.open")
	}
	o := &Outcomes{CommunityID: communityID, Period: periodText, PublishedBy: c.ID, PublishedAt: now.UTC()}
	if o.Remarks, err = text("input.remarks", in.Remarks, MaxRemarks); err != nil {
		return nil, err
	}
	if o.ChangeNote, err = text("input.changeNote", in.ChangeNote, MaxChangeNote); err != nil {
		return nil, err
	}
	if o.Examples, err = examples(in.Examples); err != nil {
		return nil, err
	}
	prev, err := s.newest(ctx, communityID, periodText)
	if err != nil {
		return nil, err
	}
	o.Version = 1
	if prev != nil {
		if prev.Version >= MaxVersions {
			return nil, ErrTooManyVersions
		}
		if o.ChangeNote == "" {
			return nil, apperr.Invalid("input.changeNote", "outcome.change_note")
		}
		o.Version, o.PreviousID = prev.Version+1, prev.ID
	}
	o.ID = OutcomesID(communityID, periodText, o.Version)
	b := &actionBuilder{o: o, prev: prev, now: now.UTC(), by: c.ID, continued: map[string]bool{}}
	if len(in.Improvements) > MaxImprovements {
		return nil, apperr.Invalid("input.improvements", "input.too_many", MaxImprovements)
	}
	for i, ai := range in.Improvements {
		if _, err := b.add(fmt.Sprintf("input.improvements.%d.", i), ai, "", ""); err != nil {
			return nil, err
		}
	}
	if err := s.answerSurveys(ctx, b, communityID, from, to, in.SurveyActions); err != nil {
		return nil, err
	}
	if err := s.count(ctx, o, communityID, from, to); err != nil {
		return nil, err
	}
	return s.store(ctx, o, prev, p, cs[communityID].Name)
}

// store claims the version and lists the period, then tells the residents.
func (s *Service) store(ctx context.Context, o, prev *Outcomes, p period.Period, communityName string) (*Outcomes, error) {
	if prev != nil {
		// The version corrected is frozen first, guarded by the rev read:
		// an action update that slipped in after the read makes this
		// publish reload (its status would otherwise be lost), and of two
		// corrections at once only one gets past here.
		res, err := s.outcomes.UpdateOne(ctx, bson.D{{Key: "_id", Value: prev.ID}, {Key: "rev", Value: prev.Rev}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "supersededBy", Value: o.ID}}}, {Key: "$inc", Value: bson.D{{Key: "rev", Value: 1}}}})
		if err != nil {
			return nil, fmt.Errorf("freeze %s: %w", prev.ID, err)
		}
		if res.MatchedCount == 0 {
			return nil, ErrVersionTaken
		}
	}
	// The period is listed before its first version exists: a crash in
	// between leaves a period without versions, which the list skips.
	if _, err := s.periods.UpdateOne(ctx, bson.D{{Key: "_id", Value: o.CommunityID + ":" + o.Period}},
		bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "communityId", Value: o.CommunityID}, {Key: "period", Value: o.Period}, {Key: "sortKey", Value: p.SortKey()}}}},
		options.UpdateOne().SetUpsert(true)); err != nil && !mongo.IsDuplicate(err) {
		return nil, fmt.Errorf("list period %s: %w", o.Period, err)
	}
	if _, err := s.outcomes.InsertOne(ctx, o); err != nil {
		if mongo.IsDuplicate(err) {
			return nil, ErrVersionTaken
		}
		return nil, fmt.Errorf("insert outcomes %s: %w", o.ID, err)
	}
	o.adopt()
	if err := s.notice(ctx, o, communityName); err != nil && s.cfg.Log != nil {
		s.cfg.Log.WarnContext(ctx, "outcomes notice incomplete; Tick resumes it", "outcomes", o.ID, "err", err)
	}
	o.Versions = []*Outcomes{o}
	if prev != nil {
		all, err := s.versions(ctx, o.CommunityID, []string{o.Period})
		if err != nil {
			return nil, err
		}
		o.Versions = all[o.Period]
	}
	return o, nil
}

// count takes the complaint and enquiry counts from the record: every
// category, zeros included, so owners see what was not raised too.
func (s *Service) count(ctx context.Context, o *Outcomes, communityID string, from, to time.Time) error {
	cc, err := s.cfg.Complaints.CategoryCountsIn(ctx, communityID, from, to)
	if err != nil {
		return err
	}
	for _, cat := range complaint.Categories {
		o.Complaints = append(o.Complaints, Count{Category: string(cat), Count: cc[cat]})
	}
	ec, err := s.cfg.Enquiries.CategoryCountsIn(ctx, communityID, from, to)
	if err != nil {
		return err
	}
	for _, cat := range enquiry.Categories {
		o.Enquiries = append(o.Enquiries, Count{Category: string(cat), Count: ec[cat]})
	}
	return nil
}

// answerSurveys lists each survey closed in the period with its
// improve-first items and matches every item with its action: an item left
// unanswered, answered twice, or an answer to anything else is refused.
func (s *Service) answerSurveys(ctx context.Context, b *actionBuilder, communityID string, from, to time.Time, in []SurveyActionInput) error {
	rs, err := s.cfg.Surveys.ClosedIn(ctx, communityID, from, to)
	if err != nil {
		return err
	}
	type itemRef struct{ survey, item int }
	items := map[string]itemRef{}
	for _, r := range rs {
		sr := SurveyResponse{SurveyID: r.Survey.ID, Title: r.Survey.Title, EndedAt: r.Survey.EndsAt().UTC(), Responses: r.Responses, Items: []SurveyItem{}}
		for _, d := range r.Dimensions {
			if d.Quadrant == nil || *d.Quadrant != survey.FixFirst {
				continue
			}
			it := SurveyItem{Dimension: d.Dimension, Satisfied: d.Satisfied}
			for _, sc := range d.Importance {
				it.Rated += sc.Count
				it.ImportanceSum += sc.Score * sc.Count
			}
			for _, sc := range d.Satisfaction {
				it.SatisfactionSum += sc.Score * sc.Count
			}
			items[sr.SurveyID+"/"+string(d.Dimension)] = itemRef{len(b.o.Surveys), len(sr.Items)}
			sr.Items = append(sr.Items, it)
		}
		b.o.Surveys = append(b.o.Surveys, sr)
	}
	for i, sa := range in {
		field := fmt.Sprintf("input.surveyActions.%d.", i)
		if !slices.ContainsFunc(b.o.Surveys, func(sr SurveyResponse) bool { return sr.SurveyID == sa.SurveyID }) {
			return apperr.Invalid(field+"surveyId", "outcome.not_closed_survey")
		}
		ref, ok := items[sa.SurveyID+"/"+string(sa.Dimension)]
		if !ok {
			return apperr.Invalid(field+"dimension", "outcome.not_improve_first")
		}
		it := &b.o.Surveys[ref.survey].Items[ref.item]
		if it.ActionKey != "" {
			return apperr.Invalid(field+"dimension", "outcome.duplicate_item")
		}
		if it.ActionKey, err = b.add(field, sa.ActionInput, sa.SurveyID, sa.Dimension); err != nil {
			return err
		}
	}
	for _, sr := range b.o.Surveys {
		for _, it := range sr.Items {
			if it.ActionKey == "" {
				return apperr.Invalid("input.surveyActions", "outcome.unanswered_item", sr.Title, it.Dimension.Label(apperr.ZH))
			}
		}
	}
	return nil
}

// actionBuilder numbers the actions of a publication and carries on the
// status of the actions a correction continues.
type actionBuilder struct {
	o         *Outcomes
	prev      *Outcomes
	now       time.Time
	by        string
	continued map[string]bool
}

func (b *actionBuilder) add(field string, in ActionInput, surveyID string, dim survey.Dimension) (string, error) {
	txt, err := validate.Text(field+"text", in.Text, true, MaxActionText)
	if err != nil {
		return "", err
	}
	if personal(txt) {
		return "", apperr.Invalid(field+"text", "outcome.personal")
	}
	if _, err := time.Parse(time.DateOnly, in.Due); err != nil {
		return "", apperr.Invalid(field+"due", "outcome.bad_date")
	}
	a := &Action{Key: "a" + strconv.Itoa(len(b.o.Actions)+1), Text: txt, Due: in.Due, SurveyID: surveyID, Dimension: dim,
		Status: Promised, StatusAt: b.now, History: []Change{{Status: Promised, At: b.now, By: b.by}}}
	if in.Continues != nil {
		outcomesID, key, ok := ParseActionID(*in.Continues)
		var old *Action
		if ok && b.prev != nil && outcomesID == b.prev.ID {
			old = b.prev.Action(key)
		}
		if old == nil {
			return "", apperr.Invalid(field+"continues", "outcome.continues")
		}
		if b.continued[key] {
			return "", apperr.Invalid(field+"continues", "outcome.continues_twice")
		}
		b.continued[key] = true
		a.Status, a.StatusAt, a.History = old.Status, old.StatusAt, old.History
	}
	b.o.Actions = append(b.o.Actions, a)
	return a.Key, nil
}

// examples validates the examples, naming the field at fault.
func examples(in []ExampleInput) ([]Example, error) {
	if len(in) > MaxExamples {
		return nil, apperr.Invalid("input.examples", "input.too_many", MaxExamples)
	}
	out := make([]Example, 0, len(in))
	for i, e := range in {
		field := fmt.Sprintf("input.examples.%d.", i)
		var known bool
		switch e.Kind {
		case ComplaintExample:
			known = slices.Contains(complaint.Categories, complaint.Category(e.Category))
		case EnquiryExample:
			known = slices.Contains(enquiry.Categories, enquiry.Category(e.Category))
		default:
			return nil, apperr.Invalid(field+"kind", "input.bad_value")
		}
		if !known {
			return nil, apperr.Invalid(field+"category", "outcome.bad_category")
		}
		sum, err := validate.Text(field+"summary", e.Summary, true, MaxSummary)
		if err != nil {
			return nil, err
		}
		if personal(sum) {
			return nil, apperr.Invalid(field+"summary", "outcome.personal")
		}
		res, err := validate.Text(field+"resolution", e.Resolution, true, MaxResolution)
		if err != nil {
			return nil, err
		}
		if personal(res) {
			return nil, apperr.Invalid(field+"resolution", "outcome.personal")
		}
		out = append(out, Example{Kind: e.Kind, Category: e.Category, Summary: sum, Resolution: res})
	}
	return out, nil
}

// text validates an optional text owners will read.
func text(field string, s *string, max int) (string, error) {
	if s == nil {
		return "", nil
	}
	t, err := validate.Text(field, *s, false, max)
	if err != nil {
		return "", err
	}
	if personal(t) {
		return "", apperr.Invalid(field, "outcome.personal")
	}
	return t, nil
}
