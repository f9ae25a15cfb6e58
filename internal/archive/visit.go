package archive

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
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Visit is a butler's household visit (走访) and the follow-up it owes.
type Visit struct {
	ID          string `bson:"_id"`
	HouseholdID string `bson:"householdId"`
	CommunityID string `bson:"communityId"`
	// BuildingID lets a butler's list find the visits of their buildings in
	// one query; visits recorded before it was kept lack it (see Visits).
	BuildingID   string    `bson:"buildingId,omitempty"`
	StaffID      string    `bson:"staffId"`
	VisitedAt    time.Time `bson:"visitedAt"`
	Attendees    []string  `bson:"attendees"`
	Topics       []string  `bson:"topics"`
	Notes        string    `bson:"notes,omitempty"`
	FollowUp     string    `bson:"followUp,omitempty"`
	FollowUpDue  string    `bson:"followUpDue,omitempty"` // YYYY-MM-DD
	FollowUpOpen bool      `bson:"followUpOpen"`
	// SortKey orders newest first: visitedAt descending, then id.
	SortKey string `bson:"sortKey"`
	// DueKey orders open follow-ups by due date ("" when none is owed).
	DueKey    string    `bson:"dueKey,omitempty"`
	CreatedAt time.Time `bson:"createdAt"`
	// Ack is the household's acknowledgement (see AcknowledgeVisit).
	Ack *VisitAck `bson:"ack,omitempty"`
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: "visits", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "householdId", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
		// Visits due: open follow-ups by due date.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "followUpOpen", Value: 1}, {Key: "dueKey", Value: 1}}},
	}})
}

// Visit notes say what was raised in a family's home (health, money,
// quarrels): they are for the household's butler, the staff member who made
// the visit and the community's supervisors. Cleaners, security, engineers
// and admins (who hold no care role) never read them, nor do residents.
//
// readsVisits: the roles that may read any visit notes at all.
func readsVisits(c *access.Caller) bool {
	return c.IsStaff() && c.Has(access.Butler, access.Supervisor)
}

// mayReadVisit: the household's butler, the visiting staff member while they
// work in the community, and the community's supervisors.
func mayReadVisit(c *access.Caller, v *Visit, h access.HouseholdRef) bool {
	if !readsVisits(c) {
		return false
	}
	return c.SupervisesIn(v.CommunityID) || c.ButlerOf(h) || (c.ID == v.StaffID && c.WorksIn(v.CommunityID))
}

// RecordVisitInput is what a butler writes after a visit.
type RecordVisitInput struct {
	HouseholdID string
	VisitedAt   time.Time
	Attendees   []string
	Topics      []string
	Notes       string
	FollowUp    string
	FollowUpDue string
}

// RecordVisit logs a visit; butlers and supervisors of the community.
func (s *Service) RecordVisit(ctx context.Context, c *access.Caller, in RecordVisitInput) (*Visit, error) {
	if err := validate.ID("input.householdId", in.HouseholdID); err != nil {
		return nil, err
	}
	h, err := s.households.Get(ctx, c, in.HouseholdID)
	if err != nil {
		return nil, err
	}
	if !c.StaffIn(h.CommunityID, access.Butler, access.Supervisor) {
		return nil, apperr.ErrForbidden
	}
	now := s.now().UTC()
	if in.VisitedAt.IsZero() {
		return nil, apperr.Invalid("input.visitedAt", "input.required")
	}
	if in.VisitedAt.After(now.Add(5 * time.Minute)) {
		return nil, apperr.Invalid("input.visitedAt", "archive.future_visit")
	}
	v := &Visit{ID: mongo.NewID(), HouseholdID: h.ID, CommunityID: h.CommunityID, BuildingID: h.BuildingID, StaffID: c.ID, VisitedAt: in.VisitedAt.UTC(), CreatedAt: now}
	if v.Attendees, err = validate.List("input.attendees", in.Attendees, 20, 40); err != nil {
		return nil, err
	}
	if v.Topics, err = validate.List("input.topics", in.Topics, 20, 200); err != nil {
		return nil, err
	}
	if len(v.Topics) == 0 {
		return nil, apperr.Invalid("input.topics", "input.required")
	}
	if v.Notes, err = validate.Text("input.notes", in.Notes, false, 2000); err != nil {
		return nil, err
	}
	if v.FollowUp, err = validate.Text("input.followUp", in.FollowUp, false, 500); err != nil {
		return nil, err
	}
	if in.FollowUpDue != "" && v.FollowUp == "" {
		return nil, apperr.Invalid("input.followUpDue", "archive.due_needs_follow_up")
	}
	v.FollowUpDue = in.FollowUpDue
	v.FollowUpOpen = v.FollowUp != ""
	v.SortKey = page.NewestFirst(v.VisitedAt, v.ID)
	if v.FollowUpOpen {
		due := v.FollowUpDue
		if due == "" {
			due = "9999-12-31" // owed with no date: listed after every dated one
		}
		v.DueKey = due + "|" + v.ID
	}
	if _, err := s.visits.InsertOne(ctx, v); err != nil {
		return nil, fmt.Errorf("insert visit: %w", err)
	}
	return v, nil
}

// CompleteFollowUp marks a visit's follow-up done. The filter on the open
// state makes a second completion a CONFLICT rather than a silent repeat.
func (s *Service) CompleteFollowUp(ctx context.Context, c *access.Caller, visitID string) (*Visit, error) {
	if err := validate.ID("visitId", visitID); err != nil {
		return nil, err
	}
	var v Visit
	err := s.visits.FindOne(ctx, bson.D{{Key: "_id", Value: visitID}}).Decode(&v)
	if errors.Is(err, mgo.ErrNoDocuments) || (err == nil && !c.WorksIn(v.CommunityID)) {
		return nil, ErrVisitNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find visit: %w", err)
	}
	if !readsVisits(c) {
		return nil, apperr.ErrForbidden
	}
	h, err := s.households.Get(ctx, c, v.HouseholdID)
	if err != nil {
		return nil, err
	}
	if !mayReadVisit(c, &v, access.HouseholdRef{ID: h.ID, CommunityID: h.CommunityID, BuildingID: h.BuildingID}) {
		// Someone else's notes: as if absent.
		return nil, ErrVisitNotFound
	}
	if v.FollowUp == "" {
		return nil, apperr.New(apperr.Conflict, "archive.no_follow_up")
	}
	var out Visit
	err = s.visits.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: visitID}, {Key: "followUpOpen", Value: true}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "followUpOpen", Value: false}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&out)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, ErrFollowUpDone
	}
	if err != nil {
		return nil, fmt.Errorf("complete follow-up: %w", err)
	}
	return &out, nil
}

// VisitFilter narrows the visit list. FollowUpDueBy lists visits due: open
// follow-ups due on or before that date, earliest first.
type VisitFilter struct {
	CommunityID, HouseholdID, StaffID, FollowUpDueBy string
}

// Visits lists the visits the caller may read (mayReadVisit): a
// supervisor every visit of the communities they supervise; a butler the
// visits of households in their care and the visits they made themselves.
// Other staff roles and residents are FORBIDDEN. A visit recorded before
// buildingId was kept reaches the butler of its building through the
// household filter (Household.visits), not through a community list.
func (s *Service) Visits(ctx context.Context, c *access.Caller, f VisitFilter, p page.Request) (page.Page[*Visit], error) {
	var none page.Page[*Visit]
	if !readsVisits(c) {
		return none, apperr.ErrForbidden
	}
	q := bson.D{}
	switch {
	case f.HouseholdID != "":
		h, err := s.households.Get(ctx, c, f.HouseholdID)
		if err != nil {
			return none, err
		}
		q = append(q, bson.E{Key: "householdId", Value: h.ID})
		ref := access.HouseholdRef{ID: h.ID, CommunityID: h.CommunityID, BuildingID: h.BuildingID}
		if !c.SupervisesIn(h.CommunityID) && !c.ButlerOf(ref) {
			// Not in the caller's care: only the visits they made.
			q = append(q, bson.E{Key: "staffId", Value: c.ID})
		}
	case f.CommunityID != "":
		if err := validate.ID("filter.communityId", f.CommunityID); err != nil {
			return none, err
		}
		if !c.WorksIn(f.CommunityID) {
			return none, apperr.ErrForbidden
		}
		q = append(q, bson.E{Key: "communityId", Value: f.CommunityID})
		if !c.SupervisesIn(f.CommunityID) {
			q = append(q, bson.E{Key: "$or", Value: s.careScope(c, nil)})
		}
	default:
		var supervised []string
		for _, id := range c.Communities {
			if c.SupervisesIn(id) {
				supervised = append(supervised, id)
			}
		}
		q = append(q, bson.E{Key: "$or", Value: s.careScope(c, supervised)})
	}
	if f.StaffID != "" {
		if err := validate.ID("filter.staffId", f.StaffID); err != nil {
			return none, err
		}
		q = append(q, bson.E{Key: "staffId", Value: f.StaffID})
	}
	sortField, key := "sortKey", func(v *Visit) string { return v.SortKey }
	if f.FollowUpDueBy != "" {
		q = append(q, bson.E{Key: "followUpOpen", Value: true}, bson.E{Key: "dueKey", Value: bson.D{{Key: "$lte", Value: f.FollowUpDueBy + "|~"}}})
		sortField, key = "dueKey", func(v *Visit) string { return v.DueKey }
	}
	if p.After != "" {
		q = append(q, bson.E{Key: sortField, Value: bson.D{{Key: page.From, Value: p.After}}})
	}
	cur, err := s.visits.Find(ctx, q, options.Find().SetSort(bson.D{{Key: sortField, Value: 1}}).SetLimit(p.Limit()))
	if err != nil {
		return none, fmt.Errorf("list visits: %w", err)
	}
	var list []*Visit
	if err := cur.All(ctx, &list); err != nil {
		return none, fmt.Errorf("list visits: %w", err)
	}
	return page.Trim(list, p, key), nil
}

// careScope is the $or of what a butler may read outside the communities
// they supervise: their own visits, and those of the households and
// buildings in their care.
func (s *Service) careScope(c *access.Caller, supervised []string) bson.A {
	or := bson.A{bson.D{{Key: "staffId", Value: c.ID}, {Key: "communityId", Value: bson.D{{Key: "$in", Value: nonNil(c.Communities)}}}}}
	if len(supervised) > 0 {
		or = append(or, bson.D{{Key: "communityId", Value: bson.D{{Key: "$in", Value: supervised}}}})
	}
	if c.Has(access.Butler) {
		if len(c.Households) > 0 {
			or = append(or, bson.D{{Key: "householdId", Value: bson.D{{Key: "$in", Value: c.Households}}},
				{Key: "communityId", Value: bson.D{{Key: "$in", Value: nonNil(c.Communities)}}}})
		}
		if len(c.Buildings) > 0 {
			or = append(or, bson.D{{Key: "buildingId", Value: bson.D{{Key: "$in", Value: c.Buildings}}},
				{Key: "communityId", Value: bson.D{{Key: "$in", Value: nonNil(c.Communities)}}}})
		}
	}
	return or
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// OpenFollowUpsIn lists a community's visits whose follow-up is still owed,
// earliest due first: the butler task list shows them.
func (s *Service) OpenFollowUpsIn(ctx context.Context, communityID string, limit int) ([]*Visit, error) {
	cur, err := s.visits.Find(ctx, bson.D{{Key: "communityId", Value: communityID}, {Key: "followUpOpen", Value: true}},
		options.Find().SetSort(bson.D{{Key: "dueKey", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("open follow-ups in %s: %w", communityID, err)
	}
	var list []*Visit
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("open follow-ups in %s: %w", communityID, err)
	}
	return list, nil
}
