package hotline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
	"qinqing/internal/staff"
)

// Residents is what the call log needs from the household register: who
// holds a phone, and where they live.
type Residents interface {
	PersonByPhone(ctx context.Context, phone string) (string, bool, error)
	MembershipsByPersons(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
}

// StaffDirectory tells who may be named as having answered.
type StaffDirectory interface {
	Get(ctx context.Context, id string) (*staff.Staff, error)
}

// ItemFinder reads item id of one kind through its owning domain's service
// with the caller's own rights and returns its community; an item the
// caller may not see is an error, as it is there.
type ItemFinder func(ctx context.Context, c *access.Caller, id string) (communityID string, err error)

// Service keeps the call log.
type Service struct {
	col       *mgo.Collection
	residents Residents
	staff     StaffDirectory
	items     map[Outcome]ItemFinder
	now       func() time.Time
}

// NewService makes the service.
func NewService(db *mongo.DB, residents Residents, staff StaffDirectory, now func() time.Time) *Service {
	return &Service{col: db.Collection("hotline_calls"), residents: residents, staff: staff, items: map[Outcome]ItemFinder{}, now: now}
}

// LinkItems lets calls of outcome o link their item, checked by f. An
// outcome without a finder is logged without an item id.
func (s *Service) LinkItems(o Outcome, f ItemFinder) *Service {
	s.items[o] = f
	return s
}

// hotlineRoles take and log calls.
var hotlineRoles = []access.Role{access.CustomerService, access.Butler, access.Supervisor}

// logs: the community's front desk, butlers and supervisors.
func logs(c *access.Caller, communityID string) bool {
	return c.IsStaff() && slices.Contains(c.Communities, communityID) && c.Has(hotlineRoles...)
}

// readsAll: supervisors and the front desk read the community's whole log
// (the desk shares one line); a butler reads the calls they answered or
// logged.
func readsAll(c *access.Caller, communityID string) bool {
	return c.SupervisesIn(communityID) || c.StaffIn(communityID, access.CustomerService)
}

func canSee(c *access.Caller, x *Call) bool {
	if c.IsPerson() {
		return x.PersonID == c.ID
	}
	if readsAll(c, x.CommunityID) {
		return true
	}
	return logs(c, x.CommunityID) && (x.AnsweredBy == c.ID || x.LoggedBy == c.ID)
}

// Get returns a call the caller may see; others are NOT_FOUND.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Call, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	x, err := mongo.FindByID[Call](ctx, s.col, id, ErrNotFound)
	if err != nil {
		return nil, err
	}
	if !canSee(c, x) {
		return nil, ErrNotFound
	}
	return x, nil
}

// LogInput is one call as staff note it.
type LogInput struct {
	CommunityID     string
	ReceivedAt      *time.Time // now when nil
	Direction       Direction  // INBOUND when empty
	Phone           string
	AnsweredBy      string // staff id; the caller when empty
	Rings           *int
	AnswerSeconds   *int
	DurationSeconds int
	Note            string
	Outcome         Outcome // NOTHING when empty
	ItemID          string
}

// Log records a call in the community, matching the phone to its residents.
func (s *Service) Log(ctx context.Context, c *access.Caller, in LogInput) (*Call, error) {
	if err := validate.ID("input.communityId", in.CommunityID); err != nil {
		return nil, err
	}
	if !logs(c, in.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	now := s.now().UTC()
	x := &Call{ID: mongo.NewID(), CommunityID: in.CommunityID, LoggedBy: c.ID, Candidates: []Candidate{}, CreatedAt: now, UpdatedAt: now}
	if err := s.fill(ctx, c, x, in, now); err != nil {
		return nil, err
	}
	if err := s.match(ctx, x); err != nil {
		return nil, err
	}
	x.SortKey = page.NewestFirst(x.ReceivedAt, x.ID)
	if _, err := s.col.InsertOne(ctx, x); err != nil {
		return nil, fmt.Errorf("insert call: %w", err)
	}
	return x, nil
}

// fill validates in into x.
func (s *Service) fill(ctx context.Context, c *access.Caller, x *Call, in LogInput, now time.Time) error {
	x.ReceivedAt = now
	if in.ReceivedAt != nil {
		t := in.ReceivedAt.UTC().Truncate(time.Millisecond)
		if t.After(now.Add(time.Minute)) || t.Before(now.AddDate(0, 0, -31)) {
			return apperr.Invalid("input.receivedAt", "hotline.bad_time")
		}
		x.ReceivedAt = t
	}
	x.Direction = in.Direction
	if x.Direction == "" {
		x.Direction = Inbound
	}
	if !slices.Contains(Directions, x.Direction) {
		return apperr.Invalid("input.direction", "input.bad_value")
	}
	var err error
	if x.Phone, err = validate.Phone("input.phone", in.Phone); err != nil {
		return err
	}
	if err := bounded("input.rings", in.Rings, 1, 60); err != nil {
		return err
	}
	if err := bounded("input.answerSeconds", in.AnswerSeconds, 0, 600); err != nil {
		return err
	}
	if x.Direction == Inbound && in.Rings == nil && in.AnswerSeconds == nil {
		return apperr.Invalid("input.rings", "hotline.measure_required")
	}
	x.Rings, x.AnswerSeconds = in.Rings, in.AnswerSeconds
	d := in.DurationSeconds
	if err := bounded("input.durationSeconds", &d, 0, 4*3600); err != nil {
		return err
	}
	x.DurationSeconds = d
	if x.Note, err = validate.Text("input.note", in.Note, false, 500); err != nil {
		return err
	}
	if x.AnsweredBy, err = s.answerer(ctx, c, in.CommunityID, in.AnsweredBy); err != nil {
		return err
	}
	x.Outcome = in.Outcome
	if x.Outcome == "" {
		x.Outcome = Nothing
	}
	return s.setItem(ctx, c, x, "input.", x.Outcome, in.ItemID)
}

func bounded(field string, v *int, lo, hi int) error {
	if v != nil && (*v < lo || *v > hi) {
		return apperr.Invalid(field, "input.out_of_range", lo, hi)
	}
	return nil
}

// answerer is who took the call: the caller by default, else an active
// front-desk member, butler or supervisor of the community.
func (s *Service) answerer(ctx context.Context, c *access.Caller, communityID, id string) (string, error) {
	if id == "" || id == c.ID {
		return c.ID, nil
	}
	bad := apperr.Invalid("input.answeredBy", "hotline.not_answerer")
	if err := validate.ID("input.answeredBy", id); err != nil {
		return "", err
	}
	st, err := s.staff.Get(ctx, id)
	if errors.Is(err, staff.ErrNotFound) {
		return "", bad
	}
	if err != nil {
		return "", err
	}
	if !st.Active || !slices.Contains(st.CommunityIDs, communityID) || !slices.ContainsFunc(st.Roles, func(r access.Role) bool { return slices.Contains(hotlineRoles, r) }) {
		return "", bad
	}
	return st.ID, nil
}

// setItem checks and sets x's outcome and item. The item is read through
// its own domain with the caller's rights and must belong to the call's
// community; an absent item, one the caller may not see and one of another
// community are the same NOT_FOUND, so a link can never probe for items.
// prefix names the input the fields are in ("input." or "").
func (s *Service) setItem(ctx context.Context, c *access.Caller, x *Call, prefix string, o Outcome, itemID string) error {
	if !slices.Contains(Outcomes, o) {
		return apperr.Invalid(prefix+"outcome", "input.bad_value")
	}
	x.Outcome, x.ItemID = o, ""
	if itemID == "" {
		return nil
	}
	field := prefix + "itemId"
	find := s.items[o]
	if find == nil {
		return ErrNoLink.WithField(field)
	}
	if err := validate.ID(field, itemID); err != nil {
		return err
	}
	community, err := find(ctx, c, itemID)
	if code := apperr.CodeOf(err); code == apperr.NotFound || code == apperr.Forbidden {
		return ErrItemNotFound.WithField(field)
	}
	if err != nil {
		return err
	}
	if community != x.CommunityID {
		return ErrItemNotFound.WithField(field)
	}
	x.ItemID = itemID
	return nil
}

// match finds the residents of x's community holding its phone: the person
// (a phone identifies at most one) and their households here. Two round
// trips through the register; a person living only in other communities is
// no match, so a call never reveals where someone lives elsewhere.
func (s *Service) match(ctx context.Context, x *Call) error {
	personID, found, err := s.residents.PersonByPhone(ctx, x.Phone)
	if err != nil || !found {
		return err
	}
	ms, err := s.residents.MembershipsByPersons(ctx, []string{personID})
	if err != nil {
		return err
	}
	for _, m := range ms[personID] {
		if m.CommunityID == x.CommunityID {
			x.Candidates = append(x.Candidates, Candidate{PersonID: personID, HouseholdID: m.HouseholdID})
		}
	}
	if len(x.Candidates) == 0 {
		return nil
	}
	x.PersonID = personID
	if len(x.Candidates) == 1 {
		x.HouseholdID = x.Candidates[0].HouseholdID
	}
	return nil
}

// Link attaches the item a call became, after the call: its answerer or
// logger, or a supervisor of the community. A household may be chosen
// among the candidates at the same time. The last link wins: it is a
// pointer kept up to date, not a step of a lifecycle, so no version guard.
func (s *Service) Link(ctx context.Context, c *access.Caller, id string, o Outcome, itemID, householdID string) (*Call, error) {
	x, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if c.IsPerson() || !(c.SupervisesIn(x.CommunityID) || logs(c, x.CommunityID) && (x.AnsweredBy == c.ID || x.LoggedBy == c.ID)) {
		return nil, apperr.ErrForbidden
	}
	if err := s.setItem(ctx, c, x, "", o, itemID); err != nil {
		return nil, err
	}
	set := bson.D{{Key: "outcome", Value: x.Outcome}, {Key: "itemId", Value: x.ItemID}}
	if householdID != "" {
		if !slices.ContainsFunc(x.Candidates, func(k Candidate) bool { return k.HouseholdID == householdID }) {
			return nil, apperr.Invalid("householdId", "input.bad_value")
		}
		x.HouseholdID = householdID
		set = append(set, bson.E{Key: "householdId", Value: householdID})
	}
	x.UpdatedAt = s.now().UTC()
	set = append(set, bson.E{Key: "updatedAt", Value: x.UpdatedAt})
	res, err := s.col.UpdateOne(ctx, bson.D{{Key: "_id", Value: x.ID}}, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return nil, fmt.Errorf("link call %s: %w", x.ID, err)
	}
	if res.MatchedCount == 0 {
		return nil, ErrNotFound
	}
	return x, nil
}

// NoteFor is x's note as c may read it: notes are staff's working notes,
// not shown to the resident the call was matched to.
func NoteFor(c *access.Caller, x *Call) string {
	if !c.IsStaff() {
		return ""
	}
	return x.Note
}
