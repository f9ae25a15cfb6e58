package household

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
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// Joining a household (户内成员邀请, docs/MEMBERSHIP.md).
//
// A person joins a household they do not already belong to only with their
// consent. The consent is either
//   - an invitation they accept after signing in with an SMS code (which
//     proves they hold the invited phone), or
//   - staff of the person's own community acting in person: staff who can
//     already see the person (a resident of a community they work in) may
//     attach them directly, as at the front desk with the resident present.
//
// A resident adding someone by phone therefore always gets an invitation,
// whether or not anybody holds that phone: the answer is the same either way,
// so the mutation cannot be used to find out who lives where. A phone nobody
// holds yet may sign in while an invitation for it is open; the person is
// created from the invitation at that first sign-in.

// InvitationTTL is how long an invitation stays open.
const InvitationTTL = 7 * 24 * time.Hour

// InvitationStatus is where an invitation stands. EXPIRED is never stored: an
// open invitation past its expiry reads as EXPIRED.
type InvitationStatus string

const (
	InvitationPending   InvitationStatus = "PENDING"
	InvitationAccepted  InvitationStatus = "ACCEPTED"
	InvitationDeclined  InvitationStatus = "DECLINED"
	InvitationCancelled InvitationStatus = "CANCELLED"
	InvitationExpired   InvitationStatus = "EXPIRED"
)

// Invitation asks one person (by phone, or a visible person chosen by id) to
// join a household in a role.
type Invitation struct {
	ID          string      `bson:"_id"`
	HouseholdID string      `bson:"householdId"`
	CommunityID string      `bson:"communityId"`
	Role        access.Role `bson:"role"`
	// Phone is the number the inviter typed; whoever proves they hold it may
	// answer. Empty when the inviter chose a person by id.
	Phone string `bson:"phone,omitempty"`
	// PersonID is the chosen person, or (once accepted) who accepted.
	PersonID string `bson:"personId,omitempty"`
	// Name and Gender are what the inviter gave: shown back to the household's
	// managers, and used for the person of a new phone at their first sign-in.
	// An existing person keeps their own name.
	Name        string           `bson:"name"`
	Gender      Gender           `bson:"gender,omitempty"`
	InviterKind auth.Kind        `bson:"inviterKind"`
	InviterID   string           `bson:"inviterId"`
	InviterRole access.Role      `bson:"inviterRole"`
	Status      InvitationStatus `bson:"status"`
	CreatedAt   time.Time        `bson:"createdAt"`
	ExpiresAt   time.Time        `bson:"expiresAt"`
	AnsweredAt  *time.Time       `bson:"answeredAt,omitempty"`
}

// StatusAt is the status as of now: an open invitation past expiry is EXPIRED.
func (i *Invitation) StatusAt(now time.Time) InvitationStatus {
	if i.Status == InvitationPending && !now.Before(i.ExpiresAt) {
		return InvitationExpired
	}
	return i.Status
}

// MaskedPhone shows the invited phone as 139****0004 to the household's
// managers: enough to tell invitations apart.
func (i *Invitation) MaskedPhone() string {
	if i.Phone == "" {
		return ""
	}
	if len(i.Phone) != 11 {
		return "***"
	}
	return i.Phone[:3] + "****" + i.Phone[7:]
}

// Added is the result of adding a member: the membership when the person
// joined at once, or the invitation they must accept first.
type Added struct {
	Membership *Membership
	Invitation *Invitation
}

var (
	ErrInvitationNotFound = apperr.New(apperr.NotFound, "household.invitation_not_found")
	ErrInvitationClosed   = apperr.New(apperr.Conflict, "household.invitation_closed")
	// ErrConsentRequired is for Go callers of AddMember (fixtures, seed) that
	// can only attach directly: this person must accept an invitation.
	ErrConsentRequired = apperr.New(apperr.Forbidden, "household.consent_required")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"household.invitation_not_found": {ZH: "邀请不存在", EN: "Invitation not found"},
		"household.invitation_closed":    {ZH: "该邀请已失效（已过期、已取消或已答复）", EN: "This invitation is no longer open (expired, cancelled or already answered)"},
		"household.consent_required":     {ZH: "需本人接受邀请后才能加入该房屋", EN: "This person joins the household only by accepting an invitation"},
	})
	mongo.Declare(mongo.Indexes{Collection: "household_invitations", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "householdId", Value: 1}, {Key: "createdAt", Value: -1}}},
		{Keys: bson.D{{Key: "phone", Value: 1}, {Key: "status", Value: 1}}},
		{Keys: bson.D{{Key: "personId", Value: 1}, {Key: "status", Value: 1}}},
	}},
		// One marker per answered invitation: its _id makes the answer once.
		mongo.Indexes{Collection: "household_invitation_answers"})
}

// InvitationNotice tells a known person about an invitation waiting for them.
// Only the flat's label and the inviter's role travel: nothing else of the
// household until they accept.
type InvitationNotice struct {
	InvitationID, PersonID, CommunityID, Label string
	InviterRole                                access.Role
}

// Notifier delivers invitation notices (the notification engine, wired by the app).
type Notifier interface {
	InvitationReceived(ctx context.Context, n InvitationNotice) error
}

// UseNotifier sets where invitation notices go; without one none are sent.
func (s *Service) UseNotifier(n Notifier) { s.notifier = n }

// inviterRole names the inviter to the invitee: OWNER for a resident, the
// staff member's register role in the household's community otherwise.
func inviterRole(c *access.Caller, h *Household) access.Role {
	if r, ok := c.RoleIn(h.ID); ok {
		return r
	}
	if c.SupervisesIn(h.CommunityID) {
		return access.Supervisor
	}
	if c.StaffIn(h.CommunityID, access.Butler) && !c.IsAdmin() {
		return access.Butler
	}
	return access.Admin
}

// invite opens an invitation for the addressee (a phone, or a person by id)
// or returns the one already open for them in this household, so repeating
// the request neither piles up invitations nor notifies twice. The answer
// does not depend on whether anybody holds the phone.
func (s *Service) invite(ctx context.Context, c *access.Caller, h *Household, role access.Role, phone, personID string, name string, gender Gender) (*Invitation, error) {
	now := s.now().UTC()
	q := bson.D{{Key: "householdId", Value: h.ID}, {Key: "status", Value: InvitationPending}, {Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: now}}}}
	if phone != "" {
		q = append(q, bson.E{Key: "phone", Value: phone})
	} else {
		q = append(q, bson.E{Key: "personId", Value: personID})
	}
	var open Invitation
	err := s.invitations.FindOne(ctx, q).Decode(&open)
	if err == nil {
		return &open, nil
	}
	if !errors.Is(err, mgo.ErrNoDocuments) {
		return nil, fmt.Errorf("find open invitation: %w", err)
	}
	inv := &Invitation{
		ID: mongo.NewID(), HouseholdID: h.ID, CommunityID: h.CommunityID, Role: role, Phone: phone, PersonID: personID,
		Name: name, Gender: gender, InviterKind: c.Kind, InviterID: c.ID, InviterRole: inviterRole(c, h),
		Status: InvitationPending, CreatedAt: now, ExpiresAt: now.Add(InvitationTTL),
	}
	if _, err := s.invitations.InsertOne(ctx, inv); err != nil {
		return nil, fmt.Errorf("insert invitation: %w", err)
	}
	// Tell the invitee if they are somebody already; a new phone learns of
	// the invitation when they first sign in (no SMS: the inviter tells them).
	to := personID
	if to == "" {
		id, found, err := s.personIDByPhone(ctx, phone)
		if err != nil {
			return nil, err
		}
		if found {
			to = id
		}
	}
	if to != "" && s.notifier != nil {
		// The invitation stands even if the notice fails: the invitee sees it
		// in myInvitations.
		_ = s.notifier.InvitationReceived(context.WithoutCancel(ctx), InvitationNotice{
			InvitationID: inv.ID, PersonID: to, CommunityID: h.CommunityID, Label: h.Label, InviterRole: inv.InviterRole,
		})
	}
	return inv, nil
}

// mayViewInvitations: whoever keeps the household's register (its owners,
// the community's supervisors and butlers, admins).
func mayViewInvitations(c *access.Caller, h *Household) bool {
	if c.IsAdmin() || c.StaffIn(h.CommunityID, access.Supervisor, access.Butler) {
		return true
	}
	r, ok := c.RoleIn(h.ID)
	return ok && r == access.Owner
}

// Bounds of the invitation lists (schema: householdInvitations,
// myInvitations). A household's list keeps every invitation ever sent, so it
// shows the newest MaxHouseholdInvitations (older ones were answered or
// expired long ago); open ones addressed to one person are few, as each
// expires.
const (
	MaxHouseholdInvitations = 100
	MaxOpenInvitations      = 50
)

// HouseholdInvitations lists a household's invitations, newest first, for
// those who keep its register.
func (s *Service) HouseholdInvitations(ctx context.Context, c *access.Caller, householdID string) ([]*Invitation, error) {
	h, err := s.Get(ctx, c, householdID)
	if err != nil {
		return nil, err
	}
	if !mayViewInvitations(c, h) {
		return nil, apperr.ErrForbidden
	}
	cur, err := s.invitations.Find(ctx, bson.D{{Key: "householdId", Value: h.ID}},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}}).SetLimit(MaxHouseholdInvitations))
	if err != nil {
		return nil, fmt.Errorf("household invitations: %w", err)
	}
	out := []*Invitation{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("household invitations: %w", err)
	}
	return out, nil
}

// addressedTo is the query for open invitations the caller may answer: those
// naming them, and those to the phone they signed in with.
func (s *Service) addressedTo(ctx context.Context, c *access.Caller) (bson.D, error) {
	if !c.IsPerson() {
		return nil, nil
	}
	p, err := s.personByID(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	or := bson.A{bson.D{{Key: "personId", Value: p.ID}}}
	if p.Phone != "" {
		or = append(or, bson.D{{Key: "phone", Value: p.Phone}})
	}
	return bson.D{{Key: "$or", Value: or}}, nil
}

// MyInvitations lists the open invitations waiting for the caller.
func (s *Service) MyInvitations(ctx context.Context, c *access.Caller) ([]*Invitation, error) {
	to, err := s.addressedTo(ctx, c)
	if err != nil || to == nil {
		return []*Invitation{}, err
	}
	q := append(to, bson.E{Key: "status", Value: InvitationPending}, bson.E{Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: s.now().UTC()}}})
	cur, err := s.invitations.Find(ctx, q, options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}}).SetLimit(MaxOpenInvitations))
	if err != nil {
		return nil, fmt.Errorf("my invitations: %w", err)
	}
	out := []*Invitation{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("my invitations: %w", err)
	}
	return out, nil
}

// received loads an invitation addressed to the caller; any other is NOT_FOUND.
func (s *Service) received(ctx context.Context, c *access.Caller, id string) (*Invitation, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	to, err := s.addressedTo(ctx, c)
	if err != nil {
		return nil, err
	}
	if to == nil {
		return nil, ErrInvitationNotFound
	}
	var inv Invitation
	err = s.invitations.FindOne(ctx, append(to, bson.E{Key: "_id", Value: id})).Decode(&inv)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, ErrInvitationNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find invitation: %w", err)
	}
	return &inv, nil
}

// answer moves an open, unexpired invitation to status; a closed one is a
// conflict. Exactly one answer wins, on FerretDB too (whose conditional
// updates are read-then-write): each answer first inserts a marker whose _id
// is the invitation's, and only the insert that succeeds goes on.
func (s *Service) answer(ctx context.Context, inv *Invitation, status InvitationStatus, set bson.D) error {
	now := s.now().UTC()
	if inv.StatusAt(now) != InvitationPending {
		return ErrInvitationClosed
	}
	if _, err := s.answers.InsertOne(ctx, bson.D{{Key: "_id", Value: inv.ID}, {Key: "status", Value: status}, {Key: "at", Value: now}}); err != nil {
		if mongo.IsDuplicate(err) {
			return ErrInvitationClosed
		}
		return fmt.Errorf("answer invitation: %w", err)
	}
	set = append(set, bson.E{Key: "status", Value: status}, bson.E{Key: "answeredAt", Value: now})
	res, err := s.invitations.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: inv.ID}, {Key: "status", Value: InvitationPending}, {Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: now}}}},
		bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return fmt.Errorf("answer invitation: %w", err)
	}
	if res.MatchedCount == 0 {
		// Expired between the read and the write: nothing was answered.
		_, _ = s.answers.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: inv.ID}})
		return ErrInvitationClosed
	}
	inv.Status, inv.AnsweredAt = status, &now
	return nil
}

// AcceptInvitation is the invitee's consent: they join the household.
func (s *Service) AcceptInvitation(ctx context.Context, c *access.Caller, id string) (*Membership, error) {
	inv, err := s.received(ctx, c, id)
	if err != nil {
		return nil, err
	}
	h, err := s.byID(ctx, inv.HouseholdID)
	if err != nil {
		return nil, err
	}
	if err := s.answer(ctx, inv, InvitationAccepted, bson.D{{Key: "personId", Value: c.ID}}); err != nil {
		return nil, err
	}
	m := &Membership{ID: mongo.NewID(), HouseholdID: h.ID, PersonID: c.ID, CommunityID: h.CommunityID, Role: inv.Role, Since: s.now().UTC()}
	if _, err := s.members.InsertOne(ctx, m); err != nil {
		if !mongo.IsDuplicate(err) {
			// Nothing half-written: the invitation is open again.
			_, _ = s.invitations.UpdateOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: inv.ID}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: InvitationPending}}}, {Key: "$unset", Value: bson.D{{Key: "answeredAt", Value: ""}}}})
			_, _ = s.answers.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: inv.ID}})
			return nil, fmt.Errorf("insert membership: %w", err)
		}
		// Already a member (staff added them meanwhile): the invitation is
		// answered all the same.
		if err := s.members.FindOne(ctx, bson.D{{Key: "householdId", Value: h.ID}, {Key: "personId", Value: c.ID}}).Decode(m); err != nil {
			return nil, fmt.Errorf("find membership: %w", err)
		}
		return m, nil
	}
	if err := s.refreshSearch(ctx, h); err != nil {
		return nil, err
	}
	return m, nil
}

// DeclineInvitation is the invitee saying no.
func (s *Service) DeclineInvitation(ctx context.Context, c *access.Caller, id string) (*Invitation, error) {
	inv, err := s.received(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := s.answer(ctx, inv, InvitationDeclined, nil); err != nil {
		return nil, err
	}
	return inv, nil
}

// CancelInvitation withdraws an open invitation: whoever may manage the
// household's members in the invited role.
func (s *Service) CancelInvitation(ctx context.Context, c *access.Caller, id string) (*Invitation, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	inv, err := mongo.FindByID[Invitation](ctx, s.invitations, id, ErrInvitationNotFound)
	if err != nil {
		return nil, err
	}
	h, err := s.Get(ctx, c, inv.HouseholdID)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrInvitationNotFound
	}
	if err != nil {
		return nil, err
	}
	if !mayViewInvitations(c, h) {
		return nil, ErrInvitationNotFound
	}
	if err := mayManageMembers(c, h, inv.Role); err != nil {
		return nil, err
	}
	if err := s.answer(ctx, inv, InvitationCancelled, nil); err != nil {
		return nil, err
	}
	return inv, nil
}

// InvitedPhone reports an open invitation for a phone that nobody holds yet,
// so that its holder can sign in to answer it (identity asks before texting a
// code).
func (s *Service) InvitedPhone(ctx context.Context, phone string) (bool, error) {
	n, err := s.invitations.CountDocuments(ctx, bson.D{{Key: "phone", Value: phone}, {Key: "status", Value: InvitationPending},
		{Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: s.now().UTC()}}}}, options.Count().SetLimit(1))
	if err != nil {
		return false, fmt.Errorf("invited phone: %w", err)
	}
	return n > 0, nil
}

// ClaimInvitedPhone creates the person of an invited phone at their first
// sign-in, after they proved they hold it: named as the oldest open
// invitation names them. They join no household until they accept.
func (s *Service) ClaimInvitedPhone(ctx context.Context, phone string) (string, bool, error) {
	if id, found, err := s.personIDByPhone(ctx, phone); err != nil || found {
		return id, found, err
	}
	var inv Invitation
	err := s.invitations.FindOne(ctx, bson.D{{Key: "phone", Value: phone}, {Key: "status", Value: InvitationPending},
		{Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: s.now().UTC()}}}}, options.FindOne().SetSort(bson.D{{Key: "createdAt", Value: 1}})).Decode(&inv)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("find invitation: %w", err)
	}
	p, err := s.insertPerson(ctx, &Person{ID: mongo.NewID(), Name: inv.Name, Phone: phone, Gender: inv.Gender, CreatedAt: s.now().UTC()})
	if errors.Is(err, ErrPhoneTaken) {
		// A concurrent sign-in created them first.
		return s.personIDByPhone(ctx, phone)
	}
	if err != nil {
		return "", false, err
	}
	return p.ID, true, nil
}
