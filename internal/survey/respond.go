package survey

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// responseDoc is a stored response. Its _id is derived from the survey and
// the respondent (see responseID), so a respondent has one document however
// often and however concurrently they answer. HouseholdID and PersonID are
// stored only when the survey is not anonymous; an anonymous response holds
// its answers and times and nothing that names who gave them.
type responseDoc struct {
	ID          string    `bson:"_id"`
	SurveyID    string    `bson:"surveyId"`
	HouseholdID string    `bson:"householdId,omitempty"`
	PersonID    string    `bson:"personId,omitempty"`
	Answers     []Answer  `bson:"answers"`
	SubmittedAt time.Time `bson:"submittedAt"`
	UpdatedAt   time.Time `bson:"updatedAt"`
}

// Response is a resident's own response, as shown to them.
type Response struct {
	SurveyID    string
	HouseholdID string // the household it was given for (per household), or through
	Answers     []Answer
	SubmittedAt time.Time
	UpdatedAt   time.Time
}

// respondentKey derives the HMAC key of respondent ids from the server
// secret, so the key serves this purpose only.
func respondentKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("qinqing/survey/respondent/v1"))
	return m.Sum(nil)
}

// responseID is the _id of a respondent's response: an HMAC of the survey
// and the household (per household) or person (per person). Without the
// server secret it cannot be linked back to anyone, and no API output
// contains it.
func (s *Service) responseID(sv *Survey, householdID, personID string) string {
	who := "h:" + householdID
	if sv.ResponsePer == PerPerson {
		who = "p:" + personID
	}
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(sv.ID + "|" + who))
	return hex.EncodeToString(m.Sum(nil))
}

// Submit records the caller's answers for the household (per household, any
// member answers for it) or for themselves (per person, householdId names
// the household that puts them in the audience). While the survey is open
// the latest answer replaces the earlier one. Residents outside the
// audience, and anybody for a household not theirs, get NOT_FOUND.
func (s *Service) Submit(ctx context.Context, c *access.Caller, surveyID, householdID string, answers []Answer) (*Response, error) {
	if err := validate.ID("householdId", householdID); err != nil {
		return nil, err
	}
	if c.IsStaff() {
		return nil, apperr.New(apperr.Forbidden, "survey.staff_not_resident")
	}
	sv, mine, err := s.visible(ctx, c, "surveyId", surveyID)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(mine, func(h *household.Household) bool { return h.ID == householdID }) {
		return nil, ErrNotFound
	}
	now := s.cfg.Now().UTC()
	switch {
	case sv.Status == Published && now.Before(sv.OpensAt):
		loc := s.cfg.Zone(sv.CommunityID)
		return nil, ErrNotOpenYet.WithArgs(sv.OpensAt.In(loc).Format("2006-01-02 15:04"))
	case !sv.OpenAt(now):
		return nil, ErrClosed
	}
	clean, err := checkAnswers(sv, answers)
	if err != nil {
		return nil, err
	}
	doc := responseDoc{ID: s.responseID(sv, householdID, c.ID), SurveyID: sv.ID, Answers: clean, SubmittedAt: now, UpdatedAt: now}
	if !sv.Anonymous {
		doc.HouseholdID, doc.PersonID = householdID, c.ID
	}
	if err := s.store(ctx, doc); err != nil {
		return nil, err
	}
	return s.myResponse(ctx, sv, householdID, c.ID)
}

// store inserts a response or, when the respondent has one, replaces its
// answers: the unique _id makes "one per respondent" hold even when two
// servers take the same respondent's answers at the same instant (the later
// write wins, as a change of answer does).
func (s *Service) store(ctx context.Context, doc responseDoc) error {
	_, err := s.responses.InsertOne(ctx, doc)
	if err == nil {
		return nil
	}
	if !mongo.IsDuplicate(err) {
		return fmt.Errorf("insert survey response: %w", err)
	}
	set := bson.D{{Key: "answers", Value: doc.Answers}, {Key: "updatedAt", Value: doc.UpdatedAt}}
	if doc.PersonID != "" {
		set = append(set, bson.E{Key: "personId", Value: doc.PersonID})
	}
	if _, err := s.responses.UpdateOne(ctx, bson.D{{Key: "_id", Value: doc.ID}}, bson.D{{Key: "$set", Value: set}}); err != nil {
		return fmt.Errorf("update survey response: %w", err)
	}
	return nil
}

// ResponseKey names a resident's response to a survey: through the
// household given, or (HouseholdID empty) their first household in its
// audience.
type ResponseKey struct{ SurveyID, HouseholdID string }

// MyResponses are the caller's own responses to surveys they can see, for
// a batch of keys (the per-request loader behind Survey.myResponse): three
// queries whatever the batch size. A key without a response, or naming a
// survey or household the resident cannot answer for, has none; staff
// never see single responses and get none.
func (s *Service) MyResponses(ctx context.Context, c *access.Caller, keys []ResponseKey) (map[ResponseKey]*Response, error) {
	out := map[ResponseKey]*Response{}
	if !c.IsPerson() || len(keys) == 0 {
		return out, nil
	}
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		ids = append(ids, k.SurveyID)
	}
	svs, err := mongo.ByIDs(ctx, s.col, ids, func(sv *Survey) string { return sv.ID })
	if err != nil {
		return nil, err
	}
	mine, err := s.cfg.Households.Mine(ctx, c)
	if err != nil {
		return nil, err
	}
	type want struct {
		key         ResponseKey
		householdID string
		sv          *Survey
	}
	var wants []want
	var rids []string
	for _, k := range keys {
		sv := svs[k.SurveyID]
		if sv == nil || sv.Status == Draft {
			continue
		}
		for _, h := range mine { // walking order: the first covered is the default
			if sv.Covers(h) && (k.HouseholdID == "" || k.HouseholdID == h.ID) {
				id := s.responseID(sv, h.ID, c.ID)
				wants, rids = append(wants, want{k, h.ID, sv}), append(rids, id)
				break
			}
		}
	}
	if len(rids) == 0 {
		return out, nil
	}
	docs, err := mongo.ByIDs(ctx, s.responses, rids, func(d *responseDoc) string { return d.ID })
	if err != nil {
		return nil, err
	}
	for i, w := range wants {
		if d := docs[rids[i]]; d != nil {
			out[w.key] = toResponse(w.sv.ID, w.householdID, d)
		}
	}
	return out, nil
}

// MyResponse is MyResponses for one survey.
func (s *Service) MyResponse(ctx context.Context, c *access.Caller, surveyID, householdID string) (*Response, error) {
	k := ResponseKey{SurveyID: surveyID, HouseholdID: householdID}
	m, err := s.MyResponses(ctx, c, []ResponseKey{k})
	return m[k], err
}

func (s *Service) myResponse(ctx context.Context, sv *Survey, householdID, personID string) (*Response, error) {
	doc, err := mongo.FindByID[responseDoc](ctx, s.responses, s.responseID(sv, householdID, personID), ErrNotFound)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return toResponse(sv.ID, householdID, doc), nil
}

func toResponse(surveyID, householdID string, doc *responseDoc) *Response {
	for i := range doc.Answers {
		if doc.Answers[i].Choices == nil {
			doc.Answers[i].Choices = []int{}
		}
	}
	return &Response{SurveyID: surveyID, HouseholdID: householdID, Answers: doc.Answers, SubmittedAt: doc.SubmittedAt, UpdatedAt: doc.UpdatedAt}
}

// existing reports which of ids have a response: one $in by _id.
func (s *Service) existing(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	cur, err := s.responses.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("find survey responses: %w", err)
	}
	var rows []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("find survey responses: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = true
	}
	return out, nil
}

// responsesOf loads a survey's responses for results: answers, and the
// household only where the survey stored one (not anonymous).
func (s *Service) responsesOf(ctx context.Context, surveyID string) ([]*responseDoc, error) {
	cur, err := s.responses.Find(ctx, bson.D{{Key: "surveyId", Value: surveyID}},
		options.Find().SetProjection(bson.D{{Key: "answers", Value: 1}, {Key: "householdId", Value: 1}, {Key: "updatedAt", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("survey responses: %w", err)
	}
	out := []*responseDoc{}
	if err := cur.All(ctx, &out); err != nil && !errors.Is(err, mgo.ErrNoDocuments) {
		return nil, fmt.Errorf("survey responses: %w", err)
	}
	return out, nil
}
