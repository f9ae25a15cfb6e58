package household

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// Gender of a person, when known.
type Gender string

const (
	Male   Gender = "MALE"
	Female Gender = "FEMALE"
)

// Person is a resident: owner, family member or tenant of one or more households.
type Person struct {
	ID     string `bson:"_id"`
	Name   string `bson:"name"`
	Phone  string `bson:"phone,omitempty"`
	Gender Gender `bson:"gender,omitempty"`
	// AvatarFileID is the person's photo in the file store.
	AvatarFileID string    `bson:"avatarFileId,omitempty"`
	CreatedAt    time.Time `bson:"createdAt"`
}

// Membership is a person's role in a household.
type Membership struct {
	ID          string      `bson:"_id"`
	HouseholdID string      `bson:"householdId"`
	PersonID    string      `bson:"personId"`
	CommunityID string      `bson:"communityId"`
	Role        access.Role `bson:"role"`
	Since       time.Time   `bson:"since"`
}

// PersonInput describes a new person.
type PersonInput struct {
	Name, Phone string
	Gender      Gender
}

// AddMemberInput adds an existing person (PersonID) or a new one (Person).
type AddMemberInput struct {
	HouseholdID string
	PersonID    string
	Person      *PersonInput
	Role        access.Role
}

// mayManageMembers: staff who keep the register, and an owner for the family
// members and tenants of their own flat.
func mayManageMembers(c *access.Caller, h *Household, role access.Role) error {
	if c.IsAdmin() || c.StaffIn(h.CommunityID, access.Supervisor, access.Butler) {
		return nil
	}
	if r, ok := c.RoleIn(h.ID); ok && r == access.Owner {
		if role == access.Owner {
			return apperr.New(apperr.Forbidden, "household.owner_adds_family")
		}
		return nil
	}
	return apperr.ErrForbidden
}

// Add puts a person in a household, or invites them when joining needs
// their consent (see invitation.go and docs/MEMBERSHIP.md):
//   - personId: the caller must already see the person (else NOT_FOUND);
//     staff then attach them directly, a resident only invites them.
//   - a new person without a phone (a child) is created and attached: nobody
//     existing can be pulled in that way.
//   - a new person with a phone: see addByPhone.
func (s *Service) Add(ctx context.Context, c *access.Caller, in AddMemberInput) (*Added, error) {
	return s.add(ctx, c, in, true)
}

// AddMember is Add for callers that only attach directly (fixtures, seed,
// the register's staff): where the person's consent is needed it fails with
// ErrConsentRequired and writes nothing.
func (s *Service) AddMember(ctx context.Context, c *access.Caller, in AddMemberInput) (*Membership, error) {
	a, err := s.add(ctx, c, in, false)
	if err != nil {
		return nil, err
	}
	return a.Membership, nil
}

func (s *Service) add(ctx context.Context, c *access.Caller, in AddMemberInput, mayInvite bool) (*Added, error) {
	if err := validate.ID("input.householdId", in.HouseholdID); err != nil {
		return nil, err
	}
	if !slices.Contains(access.HouseholdRoles, in.Role) {
		return nil, apperr.Invalid("input.role", "household.bad_role")
	}
	if (in.PersonID == "") == (in.Person == nil) {
		return nil, apperr.Invalid("input.personId", "household.person_or_id")
	}
	h, err := s.Get(ctx, c, in.HouseholdID)
	if err != nil {
		return nil, err
	}
	if err := mayManageMembers(c, h, in.Role); err != nil {
		return nil, err
	}
	inviteOr := func(phone, personID, name string, gender Gender) (*Added, error) {
		if !mayInvite {
			return nil, ErrConsentRequired
		}
		inv, err := s.invite(ctx, c, h, in.Role, phone, personID, name, gender)
		if err != nil {
			return nil, err
		}
		return &Added{Invitation: inv}, nil
	}
	if in.PersonID != "" {
		if err := validate.ID("input.personId", in.PersonID); err != nil {
			return nil, err
		}
		p, err := s.personByID(ctx, in.PersonID)
		if err != nil {
			return nil, err
		}
		// Adding an existing person never skips the visibility check.
		if ok, err := s.canSeePerson(ctx, c, p.ID); err != nil {
			return nil, err
		} else if !ok {
			return nil, ErrPersonNotFound
		}
		if c.IsPerson() {
			// A resident sees a co-member of another flat, but that is no
			// consent to move them into this one.
			if member, err := s.isMember(ctx, h.ID, p.ID); err != nil || member {
				return nil, orAlreadyMember(err)
			}
			return inviteOr("", p.ID, p.Name, p.Gender)
		}
		return s.attach(ctx, h, p, in.Role)
	}
	p, err := newPerson(*in.Person, s.now().UTC())
	if err != nil {
		return nil, err
	}
	if p.Phone == "" {
		if p, err = s.insertPerson(ctx, p); err != nil {
			return nil, err
		}
		return s.attach(ctx, h, p, in.Role)
	}
	return s.addByPhone(ctx, c, h, p, in.Role, inviteOr)
}

// addByPhone adds the person behind a phone the caller typed. This is where
// the register meets phone numbers, so it answers nothing about strangers:
//   - a resident always gets an invitation (unless the phone's holder is
//     already in this household, which the resident can see anyway): the
//     same answer whether or not anybody holds the phone;
//   - staff attach the holder they can already see (same name; a different
//     name is a conflict that names nobody), create a brand-new phone's
//     person as the register always did, and invite a holder they cannot see.
//     Staff thereby learn one thing: that the phone is registered somewhere
//     they do not work; never who or where.
//
// Every add by phone is counted against the caller's budget before the phone
// is looked up (guessing.go), so the signal above cannot be harvested.
func (s *Service) addByPhone(ctx context.Context, c *access.Caller, h *Household, p *Person, role access.Role, inviteOr func(phone, personID, name string, gender Gender) (*Added, error)) (*Added, error) {
	if err := s.allowPhoneAdd(ctx, c); err != nil {
		return nil, err
	}
	holder, found, err := s.personIDByPhone(ctx, p.Phone)
	if err != nil {
		return nil, err
	}
	if c.IsPerson() {
		if found {
			if member, err := s.isMember(ctx, h.ID, holder); err != nil || member {
				return nil, orAlreadyMember(err)
			}
		}
		return inviteOr(p.Phone, "", p.Name, p.Gender)
	}
	if !found {
		created, err := s.insertPerson(ctx, p)
		if errors.Is(err, ErrPhoneTaken) {
			// Lost a race for the phone: decide again as for a held phone.
			return s.addByPhone(ctx, c, h, p, role, inviteOr)
		}
		if err != nil {
			return nil, err
		}
		return s.attach(ctx, h, created, role)
	}
	visible, err := s.canSeePerson(ctx, c, holder)
	if err != nil {
		return nil, err
	}
	if !visible {
		return inviteOr(p.Phone, "", p.Name, p.Gender)
	}
	other, err := s.personByID(ctx, holder)
	if err != nil {
		return nil, err
	}
	if other.Name != p.Name {
		// Staff see this person already; a different name is more likely a
		// typo than the same person, so nobody is merged by mistake.
		return nil, ErrPhoneTaken.WithField("input.person.phone")
	}
	return s.attach(ctx, h, other, role)
}

func orAlreadyMember(err error) error {
	if err != nil {
		return err
	}
	return ErrAlreadyMember
}

func (s *Service) isMember(ctx context.Context, householdID, personID string) (bool, error) {
	n, err := s.members.CountDocuments(ctx, bson.D{{Key: "householdId", Value: householdID}, {Key: "personId", Value: personID}}, options.Count().SetLimit(1))
	if err != nil {
		return false, fmt.Errorf("find membership: %w", err)
	}
	return n > 0, nil
}

// attach makes p a member of h; the caller's right to do so is settled.
func (s *Service) attach(ctx context.Context, h *Household, p *Person, role access.Role) (*Added, error) {
	m := &Membership{ID: mongo.NewID(), HouseholdID: h.ID, PersonID: p.ID, CommunityID: h.CommunityID, Role: role, Since: s.now().UTC()}
	if _, err := s.members.InsertOne(ctx, m); err != nil {
		if mongo.IsDuplicate(err) {
			return nil, ErrAlreadyMember
		}
		return nil, fmt.Errorf("insert membership: %w", err)
	}
	if err := s.refreshSearch(ctx, h); err != nil {
		return nil, err
	}
	return &Added{Membership: m}, nil
}

// newPerson validates a new person's details.
func newPerson(in PersonInput, now time.Time) (*Person, error) {
	name, err := validate.Text("input.person.name", in.Name, true, 40)
	if err != nil {
		return nil, err
	}
	p := &Person{ID: mongo.NewID(), Name: name, Gender: in.Gender, CreatedAt: now}
	if in.Gender != "" && in.Gender != Male && in.Gender != Female {
		return nil, apperr.Invalid("input.person.gender", "input.bad_value")
	}
	if strings.TrimSpace(in.Phone) != "" {
		if p.Phone, err = validate.Phone("input.person.phone", in.Phone); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// insertPerson stores a new person and claims their phone; a phone claimed
// meanwhile is ErrPhoneTaken and leaves nothing behind.
func (s *Service) insertPerson(ctx context.Context, p *Person) (*Person, error) {
	if _, err := s.persons.InsertOne(ctx, p); err != nil {
		return nil, fmt.Errorf("insert person: %w", err)
	}
	if p.Phone != "" {
		if _, err := s.phones.InsertOne(ctx, bson.D{{Key: "_id", Value: p.Phone}, {Key: "personId", Value: p.ID}}); err != nil {
			// Undo the person so nothing is half-written.
			_, _ = s.persons.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: p.ID}})
			if mongo.IsDuplicate(err) {
				return nil, ErrPhoneTaken.WithField("input.person.phone")
			}
			return nil, fmt.Errorf("claim phone: %w", err)
		}
	}
	return p, nil
}

// RemoveMember takes a person out of a household; the person record stays
// (they may live elsewhere, and the archive keeps its history).
func (s *Service) RemoveMember(ctx context.Context, c *access.Caller, householdID, personID string) (*Household, error) {
	if err := validate.ID("householdId", householdID); err != nil {
		return nil, err
	}
	if err := validate.ID("personId", personID); err != nil {
		return nil, err
	}
	h, err := s.Get(ctx, c, householdID)
	if err != nil {
		return nil, err
	}
	var m Membership
	err = s.members.FindOne(ctx, bson.D{{Key: "householdId", Value: householdID}, {Key: "personId", Value: personID}}).Decode(&m)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, ErrNotMember
	}
	if err != nil {
		return nil, fmt.Errorf("find membership: %w", err)
	}
	if err := mayManageMembers(c, h, m.Role); err != nil {
		return nil, err
	}
	if _, err := s.members.DeleteOne(ctx, bson.D{{Key: "_id", Value: m.ID}}); err != nil {
		return nil, fmt.Errorf("delete membership: %w", err)
	}
	if err := s.refreshSearch(ctx, h); err != nil {
		return nil, err
	}
	return h, nil
}

// refreshSearch rebuilds the household's search text from its members.
func (s *Service) refreshSearch(ctx context.Context, h *Household) error {
	ms, err := s.MembershipsByHouseholds(ctx, []string{h.ID})
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(ms[h.ID]))
	for _, m := range ms[h.ID] {
		ids = append(ids, m.PersonID)
	}
	ps, err := s.PersonsByIDs(ctx, ids)
	if err != nil {
		return err
	}
	parts := []string{h.Label}
	for _, id := range ids {
		if p := ps[id]; p != nil {
			parts = append(parts, p.Name, p.Phone)
		}
	}
	_, err = s.households.UpdateOne(ctx, bson.D{{Key: "_id", Value: h.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "search", Value: strings.ToLower(strings.Join(parts, " "))}}}})
	if err != nil {
		return fmt.Errorf("update household search: %w", err)
	}
	return nil
}

// Person returns a person the caller may see: themselves, someone who shares a
// household with them, or (staff) a resident of a community they work in.
func (s *Service) Person(ctx context.Context, c *access.Caller, id string) (*Person, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	ok, err := s.canSeePerson(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrPersonNotFound
	}
	return s.personByID(ctx, id)
}

func (s *Service) canSeePerson(ctx context.Context, c *access.Caller, id string) (bool, error) {
	if c.IsPerson() && c.ID == id {
		return true, nil
	}
	ms, err := s.MembershipsByPersons(ctx, []string{id})
	if err != nil {
		return false, err
	}
	return PersonVisible(c, id, ms[id]), nil
}

// PersonVisible is canSeePerson over the person's memberships ms, for
// callers that load them in batches (the API, before it signs an avatar's
// URL): the person themself, their households' members, and staff of the
// communities they live in.
func PersonVisible(c *access.Caller, id string, ms []*Membership) bool {
	if c.IsPerson() && c.ID == id {
		return true
	}
	for _, m := range ms {
		if _, ok := c.RoleIn(m.HouseholdID); ok || c.WorksIn(m.CommunityID) {
			return true
		}
	}
	return false
}

// HouseholdsOfPerson returns refs of every household a person is in, for
// rules that depend on where someone lives (e.g. archive access).
func (s *Service) HouseholdsOfPerson(ctx context.Context, personID string) ([]*Household, error) {
	ms, err := s.MembershipsByPersons(ctx, []string{personID})
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(ms[personID]))
	for _, m := range ms[personID] {
		ids = append(ids, m.HouseholdID)
	}
	hs, err := s.ByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*Household, 0, len(hs))
	for _, id := range ids {
		if h := hs[id]; h != nil {
			out = append(out, h)
		}
	}
	return out, nil
}

func (s *Service) personByID(ctx context.Context, id string) (*Person, error) {
	return mongo.FindByID[Person](ctx, s.persons, id, ErrPersonNotFound)
}

func (s *Service) personIDByPhone(ctx context.Context, phone string) (string, bool, error) {
	var claim struct {
		PersonID string `bson:"personId"`
	}
	err := s.phones.FindOne(ctx, bson.D{{Key: "_id", Value: phone}}).Decode(&claim)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("find phone: %w", err)
	}
	return claim.PersonID, true, nil
}

// PersonByPhone lets identity log residents in by phone.
func (s *Service) PersonByPhone(ctx context.Context, phone string) (string, bool, error) {
	return s.personIDByPhone(ctx, phone)
}

// Caller turns a resident's identity into the request's caller with their
// memberships. A person with no household left can sign in and sees nothing.
func (s *Service) Caller(ctx context.Context, personID, session string) (*access.Caller, error) {
	if _, err := s.personByID(ctx, personID); err != nil {
		if errors.Is(err, ErrPersonNotFound) {
			return nil, apperr.ErrUnauthenticated
		}
		return nil, err
	}
	ms, err := s.MembershipsByPersons(ctx, []string{personID})
	if err != nil {
		return nil, err
	}
	c := &access.Caller{Kind: auth.KindPerson, ID: personID, Session: session}
	for _, m := range ms[personID] {
		c.Memberships = append(c.Memberships, access.Membership{HouseholdID: m.HouseholdID, CommunityID: m.CommunityID, Role: m.Role})
	}
	return c, nil
}

// Loader batches: one $in query per batch, results keyed by id. They check
// nothing: callers reached them through a parent they were allowed to see.

// ByIDs loads households.
func (s *Service) ByIDs(ctx context.Context, ids []string) (map[string]*Household, error) {
	return mongo.ByIDs(ctx, s.households, ids, func(h *Household) string { return h.ID })
}

// PersonsByIDs loads persons.
func (s *Service) PersonsByIDs(ctx context.Context, ids []string) (map[string]*Person, error) {
	return mongo.ByIDs(ctx, s.persons, ids, func(p *Person) string { return p.ID })
}

// MembershipsByHouseholds loads members of households, owners first.
func (s *Service) MembershipsByHouseholds(ctx context.Context, ids []string) (map[string][]*Membership, error) {
	return s.membershipsBy(ctx, "householdId", ids, func(m *Membership) string { return m.HouseholdID })
}

// MembershipsByPersons loads the households of persons.
func (s *Service) MembershipsByPersons(ctx context.Context, ids []string) (map[string][]*Membership, error) {
	return s.membershipsBy(ctx, "personId", ids, func(m *Membership) string { return m.PersonID })
}

// MembershipsInCommunity pages a community's memberships in _id order, after
// the id after, limit at a time: a greeting to a whole community reads its
// residents this way, one query per page, without listing households first.
func (s *Service) MembershipsInCommunity(ctx context.Context, communityID, after string, limit int) ([]*Membership, error) {
	q := bson.D{{Key: "communityId", Value: communityID}}
	if after != "" {
		q = append(q, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
	}
	cur, err := s.members.Find(ctx, q, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("memberships in %s: %w", communityID, err)
	}
	var list []*Membership
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("memberships in %s: %w", communityID, err)
	}
	return list, nil
}

func (s *Service) membershipsBy(ctx context.Context, field string, ids []string, key func(*Membership) string) (map[string][]*Membership, error) {
	cur, err := s.members.Find(ctx, bson.D{{Key: field, Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetSort(bson.D{{Key: "since", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("memberships by %s: %w", field, err)
	}
	var list []*Membership
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("memberships by %s: %w", field, err)
	}
	rank := map[access.Role]int{access.Owner: 0, access.Family: 1, access.Tenant: 2}
	slices.SortStableFunc(list, func(a, b *Membership) int { return rank[a.Role] - rank[b.Role] })
	out := make(map[string][]*Membership, len(ids))
	for _, m := range list {
		out[key(m)] = append(out[key(m)], m)
	}
	return out, nil
}

// CommunityIDsOfHouseholds maps household ids to communities (staff scopes).
func (s *Service) CommunityIDsOfHouseholds(ctx context.Context, ids []string) (map[string]string, error) {
	hs, err := s.ByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(hs))
	for id, h := range hs {
		out[id] = h.CommunityID
	}
	return out, nil
}

// PhonesOf maps person ids to phone numbers (those who have one).
func (s *Service) PhonesOf(ctx context.Context, ids []string) (map[string]string, error) {
	ps, err := s.PersonsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(ps))
	for id, p := range ps {
		if p.Phone != "" {
			out[id] = p.Phone
		}
	}
	return out, nil
}
