// Package archive owns the family-care archive (亲情服务档案): each person's
// care profile, each household's care notes, butlers' visits (走访) and the
// audit log of who read sensitive details.
package archive

import (
	"context"
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

// Flag is a care flag on a person.
type Flag string

const (
	ElderlyAlone   Flag = "ELDERLY_ALONE"   // 独居老人
	Newborn        Flag = "NEWBORN"         // 新生儿
	NeedsAttention Flag = "NEEDS_ATTENTION" // 需要特别关注
	Disabled       Flag = "DISABLED"        // 残疾 (sensitive)
	Hardship       Flag = "HARDSHIP"        // 困难家庭 (sensitive)
	ChronicIllness Flag = "CHRONIC_ILLNESS" // 慢性病 (sensitive)
)

// SensitiveFlags are health and hardship flags: readable only by the
// household's butler and the community's supervisors.
var SensitiveFlags = []Flag{Disabled, Hardship, ChronicIllness}

// IsSensitive reports whether f is a health or hardship flag.
func (f Flag) IsSensitive() bool { return slices.Contains(SensitiveFlags, f) }

var allFlags = []Flag{ElderlyAlone, Newborn, NeedsAttention, Disabled, Hardship, ChronicIllness}

// Profile is one person's care profile. Sensitive details live in their own
// sub-document so no code path can hand them out by accident.
type Profile struct {
	PersonID     string    `bson:"_id"`
	Birthday     *Birthday `bson:"birthday,omitempty"`
	Occupation   string    `bson:"occupation,omitempty"`
	Hobbies      []string  `bson:"hobbies"`
	ContactHours string    `bson:"contactHours,omitempty"`
	Flags        []Flag    `bson:"flags"` // non-sensitive
	CustomFlags  []string  `bson:"customFlags"`
	Notes        string    `bson:"notes,omitempty"`
	Sensitive    Sensitive `bson:"sensitive"`
	UpdatedAt    time.Time `bson:"updatedAt"`
	UpdatedBy    string    `bson:"updatedBy"`
}

// Sensitive holds health and hardship details.
type Sensitive struct {
	Flags         []Flag `bson:"flags"`
	HealthNotes   string `bson:"healthNotes,omitempty"`
	HardshipNotes string `bson:"hardshipNotes,omitempty"`
}

// HouseholdCare is the household part of the archive.
type HouseholdCare struct {
	HouseholdID     string    `bson:"_id"`
	FamilyStructure string    `bson:"familyStructure,omitempty"`
	Preferences     string    `bson:"preferences,omitempty"`
	UpdatedAt       time.Time `bson:"updatedAt"`
}

var (
	ErrSensitiveForbidden = apperr.New(apperr.Forbidden, "archive.sensitive_forbidden")
	ErrVisitNotFound      = apperr.New(apperr.NotFound, "archive.visit_not_found")
	ErrFollowUpDone       = apperr.New(apperr.Conflict, "archive.follow_up_done")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"archive.sensitive_forbidden": {ZH: "健康和困难情况仅限负责管家和主管查看", EN: "Health and hardship details are for the responsible butler and supervisors only"},
		"archive.leap_is_lunar":       {ZH: "只有农历生日有闰月", EN: "only lunar birthdays have leap months"},
		"archive.no_such_leap_month":  {ZH: "该年没有这个闰月", EN: "that year has no such leap month"},
		"archive.visit_not_found":     {ZH: "走访记录不存在", EN: "Visit not found"},
		"archive.follow_up_done":      {ZH: "该走访的跟进事项已完成", EN: "This visit's follow-up is already done"},
		"archive.no_follow_up":        {ZH: "该走访没有需要跟进的事项", EN: "This visit has no follow-up"},
		"archive.future_visit":        {ZH: "走访时间不能晚于现在", EN: "cannot be in the future"},
		"archive.due_needs_follow_up": {ZH: "填写跟进期限时需要填写跟进事项", EN: "needs a follow-up to be set"},
	})
	mongo.Declare(
		mongo.Indexes{Collection: "care_profiles"},
		mongo.Indexes{Collection: "household_care"},
	)
}

// Households is what the archive needs from the household register.
type Households interface {
	Get(ctx context.Context, c *access.Caller, id string) (*household.Household, error)
	HouseholdsOfPerson(ctx context.Context, personID string) ([]*household.Household, error)
	MembershipsByHouseholds(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
	SetCareFlags(ctx context.Context, householdID string, flags []string) error
}

// Service manages the archive.
type Service struct {
	profiles, hcare, visits, audit *mgo.Collection
	households                     Households
	now                            func() time.Time
}

// NewService makes the service.
func NewService(db *mongo.DB, households Households, now func() time.Time) *Service {
	return &Service{
		profiles: db.Collection("care_profiles"), hcare: db.Collection("household_care"),
		visits: db.Collection("visits"), audit: db.Collection("archive_audit"),
		households: households, now: now,
	}
}

// ProfilesByPersons is the loader batch for care profiles. It returns the
// whole profile: the graph layer exposes Sensitive only through
// SensitiveFor, which checks and audits.
func (s *Service) ProfilesByPersons(ctx context.Context, ids []string) (map[string]*Profile, error) {
	return mongo.ByIDs(ctx, s.profiles, ids, func(p *Profile) string { return p.PersonID })
}

// ContactHoursOf maps people to the hours they prefer to be called at, for
// those who named any: one $in, reading that field alone (the rest of a
// profile, its sensitive part above all, never leaves the database for a
// callback reminder).
func (s *Service) ContactHoursOf(ctx context.Context, personIDs []string) (map[string]string, error) {
	out := map[string]string{}
	if len(personIDs) == 0 {
		return out, nil
	}
	cur, err := s.profiles.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: personIDs}}}},
		options.Find().SetProjection(bson.D{{Key: "contactHours", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("contact hours: %w", err)
	}
	var ps []Profile
	if err := cur.All(ctx, &ps); err != nil {
		return nil, fmt.Errorf("contact hours: %w", err)
	}
	for _, p := range ps {
		if p.ContactHours != "" {
			out[p.PersonID] = p.ContactHours
		}
	}
	return out, nil
}

// HouseholdCareByIDs is the loader batch for household care notes.
func (s *Service) HouseholdCareByIDs(ctx context.Context, ids []string) (map[string]*HouseholdCare, error) {
	return mongo.ByIDs(ctx, s.hcare, ids, func(h *HouseholdCare) string { return h.HouseholdID })
}

// MayReadSensitive is the one rule for health and hardship details of a
// person who lives in households: the butler of one of them or a supervisor
// of its community.
func MayReadSensitive(c *access.Caller, households []access.HouseholdRef) (access.HouseholdRef, bool) {
	for _, h := range households {
		if c.CanReadSensitive(h) {
			return h, true
		}
	}
	return access.HouseholdRef{}, false
}

// SensitiveRead is one audited read under the archive's rule: a person's
// sensitive details, or something about them kept elsewhere under the same
// rule (an enquiry's staff notes), named by Field and Subject.
type SensitiveRead struct {
	PersonID string
	Via      access.HouseholdRef
	// Field is what was shown and Subject the record it belongs to (e.g.
	// "enquiry.staffNotes" of "enquiry:<id>"); both empty for a care
	// profile's sensitive part.
	Field, Subject string
}

// SensitiveFor returns p's sensitive details if c may read them, with the read
// that must be recorded (the graph layer batches those into one write per
// request through RecordReads). Others get ErrSensitiveForbidden.
func SensitiveFor(c *access.Caller, personID string, households []access.HouseholdRef, p *Profile) (*Sensitive, *SensitiveRead, error) {
	via, ok := MayReadSensitive(c, households)
	if !ok {
		return nil, nil, ErrSensitiveForbidden
	}
	var sens Sensitive
	if p != nil {
		sens = p.Sensitive
	}
	if sens.Flags == nil {
		sens.Flags = []Flag{}
	}
	return &sens, &SensitiveRead{PersonID: personID, Via: via}, nil
}

// ProfileInput changes a care profile; nil fields are unchanged. Set* fields
// record an explicit null that clears the value.
type ProfileInput struct {
	Birthday      *Birthday
	ClearBirthday bool
	Occupation    *string
	Hobbies       *[]string
	ContactHours  *string
	Flags         *[]Flag // all flags, sensitive ones included
	CustomFlags   *[]string
	Notes         *string
	HealthNotes   *string
	HardshipNotes *string
}

func (in ProfileInput) touchesSensitive(old *Profile) bool {
	if in.HealthNotes != nil || in.HardshipNotes != nil {
		return true
	}
	if in.Flags == nil {
		return false
	}
	var before []Flag
	if old != nil {
		before = old.Sensitive.Flags
	}
	var after []Flag
	for _, f := range *in.Flags {
		if f.IsSensitive() {
			after = append(after, f)
		}
	}
	slices.Sort(before)
	slices.Sort(after)
	return !slices.Equal(before, after)
}

// UpdateProfile changes a person's care profile. Staff of the person's
// community who serve residents (butlers, supervisors) edit the ordinary part;
// health and hardship details need sensitive access; a resident may keep
// their own birthday, hobbies, occupation and contact hours up to date.
func (s *Service) UpdateProfile(ctx context.Context, c *access.Caller, personID string, in ProfileInput) (*Profile, error) {
	if err := validate.ID("personId", personID); err != nil {
		return nil, err
	}
	hs, err := s.households.HouseholdsOfPerson(ctx, personID)
	if err != nil {
		return nil, err
	}
	refs := make([]access.HouseholdRef, len(hs))
	staffOK := false
	for i, h := range hs {
		refs[i] = h.Ref()
		staffOK = staffOK || c.StaffIn(h.CommunityID, access.Butler, access.Supervisor)
	}
	self := c.IsPerson() && c.ID == personID
	if !staffOK && !self {
		if c.IsStaff() && len(hs) > 0 && anyWorksIn(c, hs) {
			return nil, apperr.ErrForbidden
		}
		return nil, household.ErrPersonNotFound
	}
	old, err := s.profile(ctx, personID)
	if err != nil {
		return nil, err
	}
	if self && !staffOK && (in.Flags != nil || in.CustomFlags != nil || in.Notes != nil || in.HealthNotes != nil || in.HardshipNotes != nil) {
		return nil, apperr.ErrForbidden
	}
	if in.touchesSensitive(old) {
		if _, ok := MayReadSensitive(c, refs); !ok {
			return nil, ErrSensitiveForbidden
		}
	}
	set, err := s.profileChanges(in)
	if err != nil {
		return nil, err
	}
	set = append(set, bson.E{Key: "updatedAt", Value: s.now().UTC()}, bson.E{Key: "updatedBy", Value: c.ID})
	update := bson.D{{Key: "$set", Value: set}}
	if old == nil {
		update = append(update, bson.E{Key: "$setOnInsert", Value: setOnInsertDefaults(set)})
	}
	var p Profile
	err = s.profiles.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: personID}}, update,
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&p)
	if err != nil {
		return nil, fmt.Errorf("update care profile: %w", err)
	}
	if in.Flags != nil {
		if err := s.refreshHouseholdFlags(ctx, hs); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

// setOnInsertDefaults gives a new profile empty lists for every list field
// the update does not set, so documents always have the same shape.
func setOnInsertDefaults(set bson.D) bson.D {
	has := map[string]bool{}
	for _, e := range set {
		has[e.Key] = true
	}
	var out bson.D
	for _, k := range []string{"hobbies", "flags", "customFlags", "sensitive.flags"} {
		if !has[k] {
			out = append(out, bson.E{Key: k, Value: bson.A{}})
		}
	}
	if len(out) == 0 {
		out = bson.D{{Key: "createdAt", Value: time.Now().UTC()}}
	}
	return out
}

func anyWorksIn(c *access.Caller, hs []*household.Household) bool {
	for _, h := range hs {
		if c.WorksIn(h.CommunityID) {
			return true
		}
	}
	return false
}

func (s *Service) profile(ctx context.Context, personID string) (*Profile, error) {
	var p Profile
	err := s.profiles.FindOne(ctx, bson.D{{Key: "_id", Value: personID}}).Decode(&p)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find care profile: %w", err)
	}
	return &p, nil
}

// profileChanges validates input and builds the $set document.
func (s *Service) profileChanges(in ProfileInput) (bson.D, error) {
	var set bson.D
	if in.ClearBirthday {
		set = append(set, bson.E{Key: "birthday", Value: nil})
	} else if in.Birthday != nil {
		if err := in.Birthday.validate(s.now()); err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: "birthday", Value: in.Birthday})
	}
	texts := []struct {
		field, key string
		v          *string
		max        int
	}{
		{"input.occupation", "occupation", in.Occupation, 60},
		{"input.contactHours", "contactHours", in.ContactHours, 60},
		{"input.notes", "notes", in.Notes, 2000},
		{"input.healthNotes", "sensitive.healthNotes", in.HealthNotes, 2000},
		{"input.hardshipNotes", "sensitive.hardshipNotes", in.HardshipNotes, 2000},
	}
	for _, t := range texts {
		if t.v == nil {
			continue
		}
		v, err := validate.Text(t.field, *t.v, false, t.max)
		if err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: t.key, Value: v})
	}
	if in.Hobbies != nil {
		h, err := validate.List("input.hobbies", *in.Hobbies, 20, 30)
		if err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: "hobbies", Value: h})
	}
	if in.CustomFlags != nil {
		cf, err := validate.List("input.customFlags", *in.CustomFlags, 10, 20)
		if err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: "customFlags", Value: cf})
	}
	if in.Flags != nil {
		plain, sens := []Flag{}, []Flag{}
		for _, f := range *in.Flags {
			if !slices.Contains(allFlags, f) {
				return nil, apperr.Invalid("input.careFlags", "input.bad_value")
			}
			if f.IsSensitive() && !slices.Contains(sens, f) {
				sens = append(sens, f)
			} else if !f.IsSensitive() && !slices.Contains(plain, f) {
				plain = append(plain, f)
			}
		}
		set = append(set, bson.E{Key: "flags", Value: plain}, bson.E{Key: "sensitive.flags", Value: sens})
	}
	return set, nil
}

// refreshHouseholdFlags recomputes the union of members' flags on each
// household of the person, so staff screens can filter households by flag.
func (s *Service) refreshHouseholdFlags(ctx context.Context, hs []*household.Household) error {
	ids := make([]string, len(hs))
	for i, h := range hs {
		ids[i] = h.ID
	}
	ms, err := s.households.MembershipsByHouseholds(ctx, ids)
	if err != nil {
		return err
	}
	var people []string
	for _, list := range ms {
		for _, m := range list {
			people = append(people, m.PersonID)
		}
	}
	profiles, err := s.ProfilesByPersons(ctx, people)
	if err != nil {
		return err
	}
	for _, h := range hs {
		flags := []string{}
		for _, m := range ms[h.ID] {
			p := profiles[m.PersonID]
			if p == nil {
				continue
			}
			for _, f := range append(append([]Flag{}, p.Flags...), p.Sensitive.Flags...) {
				if !slices.Contains(flags, string(f)) {
					flags = append(flags, string(f))
				}
			}
		}
		if err := s.households.SetCareFlags(ctx, h.ID, flags); err != nil {
			return err
		}
	}
	return nil
}

// HouseholdCareInput changes the household notes; nil is unchanged.
type HouseholdCareInput struct {
	FamilyStructure, Preferences *string
}

// UpdateHouseholdCare edits family structure and preferences: butlers and
// supervisors of the community.
func (s *Service) UpdateHouseholdCare(ctx context.Context, c *access.Caller, householdID string, in HouseholdCareInput) (*household.Household, error) {
	h, err := s.households.Get(ctx, c, householdID)
	if err != nil {
		return nil, err
	}
	if !c.StaffIn(h.CommunityID, access.Butler, access.Supervisor) {
		return nil, apperr.ErrForbidden
	}
	set := bson.D{{Key: "updatedAt", Value: s.now().UTC()}}
	if in.FamilyStructure != nil {
		v, err := validate.Text("input.familyStructure", *in.FamilyStructure, false, 500)
		if err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: "familyStructure", Value: v})
	}
	if in.Preferences != nil {
		v, err := validate.Text("input.preferences", *in.Preferences, false, 500)
		if err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: "preferences", Value: v})
	}
	_, err = s.hcare.UpdateOne(ctx, bson.D{{Key: "_id", Value: h.ID}}, bson.D{{Key: "$set", Value: set}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return nil, fmt.Errorf("update household care: %w", err)
	}
	return h, nil
}
