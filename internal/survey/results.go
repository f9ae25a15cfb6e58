package survey

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
)

// ScoreCount is how many gave one score (1-5).
type ScoreCount struct {
	Score int
	Count int
}

// OptionCount is how many chose one option; Share is of the question's
// responses (multiple choice shares add up to more than 1).
type OptionCount struct {
	Index  int
	Option string
	Count  int
	Share  *float64
}

// TextAnswer is one free-text answer. HouseholdID is empty for an anonymous
// survey, whose responses do not know it.
type TextAnswer struct {
	Text        string
	HouseholdID string
}

// DimensionResult is one dimension's importance and satisfaction.
type DimensionResult struct {
	Dimension        Dimension
	QuestionID       string
	Responses        int
	MeanImportance   *float64
	MeanSatisfaction *float64
	Importance       []ScoreCount
	Satisfaction     []ScoreCount
	Satisfied        int // satisfaction 4 or 5
	// Quadrant is nil for a dimension nobody rated.
	Quadrant *Quadrant
}

// QuestionResult is one question's distribution.
type QuestionResult struct {
	Question   *Question
	Responses  int
	Options    []OptionCount // choice questions
	Ratings    []ScoreCount  // rating questions: 1..5
	MeanRating *float64
	Texts      []TextAnswer     // free text
	Dimension  *DimensionResult // dimension questions
}

// Satisfaction is the share of satisfaction scores (dimension satisfaction
// and rating answers) that are 4 or 5, against the target.
type Satisfaction struct {
	Satisfied int
	Rated     int
	Rate      *float64 // nil when nothing was rated
	Target    float64
	Met       bool
}

// Results are a survey's results.
type Results struct {
	Survey       *Survey
	Responses    int
	Audience     int
	ResponseRate *float64 // nil without an audience
	Satisfaction Satisfaction
	// The quadrant lines: the means across dimensions of their mean
	// importance and mean satisfaction (each rated dimension counts once).
	MeanImportance   *float64
	MeanSatisfaction *float64
	Questions        []*QuestionResult
	Dimensions       []*DimensionResult
}

// Results are the survey's results, for staff of its community (any role:
// they all serve the residents who answered). Residents: FORBIDDEN; staff
// of another community: NOT_FOUND. An anonymous survey's results name
// nobody: its responses hold no identity to name.
func (s *Service) Results(ctx context.Context, c *access.Caller, id string) (*Results, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	if !c.IsStaff() {
		return nil, apperr.ErrForbidden
	}
	sv, _, err := s.visible(ctx, c, "surveyId", id)
	if err != nil {
		return nil, err
	}
	docs, err := s.responsesOf(ctx, sv.ID)
	if err != nil {
		return nil, err
	}
	r := tally(sv, docs)
	n := r.Responses
	sv.ResponseCount = &n
	return r, nil
}

// SatisfactionIn counts satisfaction scores over the community's published
// surveys whose open window (opensAt to closesAt, or to when staff closed
// it) overlaps [from, to): rated is every dimension satisfaction score and
// rating answer given, satisfied those that are 4 or 5 — surveyResults'
// satisfaction rate, summed. No caller checks: the KPI service decides who
// sees it.
func (s *Service) SatisfactionIn(ctx context.Context, communityID string, from, to time.Time) (satisfied, rated int, err error) {
	cur, err := s.col.Find(ctx, bson.D{{Key: "communityId", Value: communityID}, {Key: "opensAt", Value: bson.D{{Key: "$lt", Value: to.UTC()}}},
		{Key: "status", Value: bson.D{{Key: "$in", Value: []Status{Published, Closed}}}}, {Key: "closesAt", Value: bson.D{{Key: "$gt", Value: from.UTC()}}}},
		options.Find().SetProjection(bson.D{{Key: "timeline", Value: 0}}))
	if err != nil {
		return 0, 0, fmt.Errorf("surveys of %s: %w", communityID, err)
	}
	var list []*Survey
	if err := cur.All(ctx, &list); err != nil {
		return 0, 0, fmt.Errorf("surveys of %s: %w", communityID, err)
	}
	for _, sv := range list {
		if !sv.EndsAt().After(from) {
			continue
		}
		docs, err := s.responsesOf(ctx, sv.ID)
		if err != nil {
			return 0, 0, err
		}
		r := tally(sv, docs)
		satisfied += r.Satisfaction.Satisfied
		rated += r.Satisfaction.Rated
	}
	return satisfied, rated, nil
}

// tally computes results from the responses. Averages and ratios are
// computed here in Go: the aggregation subset both databases serve has no
// $avg.
func tally(sv *Survey, docs []*responseDoc) *Results {
	r := &Results{Survey: sv, Responses: len(docs), Audience: sv.AudienceSize(), Satisfaction: Satisfaction{Target: Target}}
	qs := make(map[string]*QuestionResult, len(sv.Questions))
	for i := range sv.Questions {
		q := &sv.Questions[i]
		qr := &QuestionResult{Question: q, Options: []OptionCount{}, Ratings: []ScoreCount{}, Texts: []TextAnswer{}}
		switch q.Type {
		case SingleChoice, MultipleChoice:
			for j, o := range q.Options {
				qr.Options = append(qr.Options, OptionCount{Index: j, Option: o})
			}
		case Rating:
			qr.Ratings = scoreScale()
		case DimensionQ:
			qr.Dimension = &DimensionResult{Dimension: q.Dimension, QuestionID: q.ID, Importance: scoreScale(), Satisfaction: scoreScale()}
			r.Dimensions = append(r.Dimensions, qr.Dimension)
		}
		qs[q.ID] = qr
		r.Questions = append(r.Questions, qr)
	}
	// Anonymous text answers go out in text order, so their order says
	// nothing about who answered when; named ones in the order given.
	if !sv.Anonymous {
		slices.SortStableFunc(docs, func(a, b *responseDoc) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	}
	for _, d := range docs {
		for _, a := range d.Answers {
			qr := qs[a.QuestionID]
			if qr == nil {
				continue
			}
			qr.Responses++
			switch qr.Question.Type {
			case SingleChoice, MultipleChoice:
				for _, ch := range a.Choices {
					if ch >= 0 && ch < len(qr.Options) {
						qr.Options[ch].Count++
					}
				}
			case Rating:
				if a.Rating != nil {
					add(qr.Ratings, *a.Rating)
					r.Satisfaction.count(*a.Rating)
				}
			case FreeText:
				if a.Text != nil {
					t := TextAnswer{Text: *a.Text}
					if !sv.Anonymous {
						t.HouseholdID = d.HouseholdID
					}
					qr.Texts = append(qr.Texts, t)
				}
			case DimensionQ:
				if a.Importance != nil && a.Satisfaction != nil {
					add(qr.Dimension.Importance, *a.Importance)
					add(qr.Dimension.Satisfaction, *a.Satisfaction)
					r.Satisfaction.count(*a.Satisfaction)
				}
			}
		}
	}
	for _, qr := range r.Questions {
		for i := range qr.Options {
			qr.Options[i].Share = ratio(qr.Options[i].Count, qr.Responses)
		}
		if qr.Question.Type == Rating {
			qr.MeanRating = mean(qr.Ratings)
		}
		if sv.Anonymous {
			slices.SortFunc(qr.Texts, func(a, b TextAnswer) int { return strings.Compare(a.Text, b.Text) })
		}
		if d := qr.Dimension; d != nil {
			d.Responses = qr.Responses
			d.MeanImportance, d.MeanSatisfaction = mean(d.Importance), mean(d.Satisfaction)
			d.Satisfied = d.Satisfaction[3].Count + d.Satisfaction[4].Count
		}
	}
	r.MeanImportance, r.MeanSatisfaction = classify(r.Dimensions)
	st := &r.Satisfaction
	st.Rate = ratio(st.Satisfied, st.Rated)
	st.Met = st.Rate != nil && *st.Rate >= Target
	if r.Audience > 0 {
		rate := min(1, float64(r.Responses)/float64(r.Audience)) // households added since publishing may answer too
		r.ResponseRate = &rate
	}
	return r
}

func (st *Satisfaction) count(score int) {
	st.Rated++
	if score >= SatisfiedScore {
		st.Satisfied++
	}
}

// eps absorbs floating-point noise when a mean is compared with the mean
// of means: a dimension exactly at the split counts as high.
const eps = 1e-9

// Classify places a dimension in the importance-satisfaction quadrants,
// split at the means across dimensions. A value equal to the split counts
// as high on its axis.
func Classify(importance, satisfaction, meanImportance, meanSatisfaction float64) Quadrant {
	hi := importance >= meanImportance-eps
	hs := satisfaction >= meanSatisfaction-eps
	switch {
	case hi && hs:
		return KeepUp
	case hi:
		return FixFirst
	case hs:
		return PossibleOverkill
	}
	return LowPriority
}

// classify sets each rated dimension's quadrant and returns the split.
func classify(dims []*DimensionResult) (meanImp, meanSat *float64) {
	var si, ss float64
	n := 0
	for _, d := range dims {
		if d.Responses > 0 {
			si += *d.MeanImportance
			ss += *d.MeanSatisfaction
			n++
		}
	}
	if n == 0 {
		return nil, nil
	}
	mi, ms := si/float64(n), ss/float64(n)
	for _, d := range dims {
		if d.Responses > 0 {
			q := Classify(*d.MeanImportance, *d.MeanSatisfaction, mi, ms)
			d.Quadrant = &q
		}
	}
	return &mi, &ms
}

func scoreScale() []ScoreCount {
	out := make([]ScoreCount, 0, MaxScore)
	for sc := MinScore; sc <= MaxScore; sc++ {
		out = append(out, ScoreCount{Score: sc})
	}
	return out
}

func add(scale []ScoreCount, score int) {
	if score >= MinScore && score <= MaxScore {
		scale[score-MinScore].Count++
	}
}

func mean(scale []ScoreCount) *float64 {
	sum, n := 0, 0
	for _, s := range scale {
		sum += s.Score * s.Count
		n += s.Count
	}
	if n == 0 {
		return nil
	}
	m := float64(sum) / float64(n)
	return &m
}

func ratio(a, b int) *float64 {
	if b == 0 {
		return nil
	}
	r := float64(a) / float64(b)
	return &r
}
