// Package intake is the one rule for how a request comes in (受理渠道): a
// resident filing in the app or mini program for their own household, or
// front-desk staff, butlers and supervisors filing on a resident's behalf
// after a call, a visit at the desk or a home visit (亲情电话/客户服务中心).
// Repairs, complaints, service orders, campaign bookings and move bookings
// all ask it the same question before they run their own rules, so staff
// filing never differs from a resident filing except in who is recorded.
package intake

import (
	"context"
	"fmt"
	"slices"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/validate"
)

// Channel is how a request reached the company.
type Channel string

const (
	Phone  Channel = "PHONE"  // the family hotline (亲情电话)
	Desk   Channel = "DESK"   // at the front desk (客户服务中心)
	Visit  Channel = "VISIT"  // on a home visit
	App    Channel = "APP"    // the resident's app
	Wechat Channel = "WECHAT" // the mini program or a WeChat message
)

// Channels lists the valid channels.
var Channels = []Channel{Phone, Desk, Visit, App, Wechat}

// residentChannels are the ones a resident files through themselves.
var residentChannels = []Channel{App, Wechat}

// Input names the channel and, for staff, the member of the household who
// asked.
type Input struct {
	Channel  Channel
	PersonID string
}

// Record is stored on the item: how it came in and who put it on record.
// FiledBy is empty when the resident filed it themselves.
type Record struct {
	Channel Channel   `bson:"channel"`
	FiledBy string    `bson:"filedBy,omitempty"`
	FiledAt time.Time `bson:"filedAt"`
}

// Filing is the answer: whose item it is and how it was filed.
type Filing struct {
	// PersonID is the resident the item belongs to: the reporter, the
	// booker, the one who signs off and is told of progress.
	PersonID string
	// Role is that person's role in the household: a domain whose rule
	// depends on it (tenants do not book paid services) asks it as it
	// would ask a resident caller's.
	Role access.Role
	// Record is nil for a resident filing without naming a channel.
	Record *Record
}

// ByStaff reports a filing on a resident's behalf.
func (f Filing) ByStaff() bool { return f.Record != nil && f.Record.FiledBy != "" }

// TimelineData is what the first timeline entry says about the filing.
func (f Filing) TimelineData() map[string]any {
	if f.Record == nil {
		return nil
	}
	d := map[string]any{"channel": string(f.Record.Channel)}
	if f.PersonID != "" {
		d["personId"] = f.PersonID
	}
	return d
}

// Households is what the rule needs of the register.
type Households interface {
	Members
	Get(ctx context.Context, c *access.Caller, id string) (*household.Household, error)
}

// Filers are the staff roles who file on a resident's behalf; admins may too,
// as they may act in every community elsewhere.
var Filers = []access.Role{access.CustomerService, access.Butler, access.Supervisor}

// Resolve checks that c may file for householdID through in and returns the
// household and the filing. A resident files for their own households only
// (another household is NOT_FOUND), with channel APP or WECHAT or none. Staff
// must name the channel and the member who asked; staff of another community
// get NOT_FOUND as for any household they cannot see, other roles FORBIDDEN,
// and staff without an intake FORBIDDEN (they do not file as residents).
func Resolve(ctx context.Context, hs Households, c *access.Caller, householdID string, in *Input, now time.Time) (*household.Household, Filing, error) {
	if err := validate.ID("input.householdId", householdID); err != nil {
		return nil, Filing{}, err
	}
	if in != nil && !slices.Contains(Channels, in.Channel) {
		return nil, Filing{}, apperr.Invalid("intake.channel", "input.bad_value")
	}
	now = now.UTC()
	if c.IsPerson() {
		role, ok := c.RoleIn(householdID)
		if !ok {
			return nil, Filing{}, household.ErrNotFound
		}
		f := Filing{PersonID: c.ID, Role: role}
		if in != nil {
			if !slices.Contains(residentChannels, in.Channel) {
				return nil, Filing{}, apperr.Invalid("intake.channel", "intake.resident_channel")
			}
			if in.PersonID != "" && in.PersonID != c.ID {
				return nil, Filing{}, apperr.Invalid("intake.personId", "intake.not_self")
			}
			f.Record = &Record{Channel: in.Channel, FiledAt: now}
		}
		h, err := hs.Get(ctx, c, householdID)
		return h, f, err
	}
	if !c.IsStaff() || in == nil {
		return nil, Filing{}, apperr.ErrForbidden
	}
	if err := validate.ID("intake.personId", in.PersonID); err != nil {
		return nil, Filing{}, err
	}
	if in.Channel == App {
		return nil, Filing{}, apperr.Invalid("intake.channel", "intake.staff_channel")
	}
	h, err := hs.Get(ctx, c, householdID)
	if err != nil {
		return nil, Filing{}, err
	}
	if !MayFileFor(c, h.CommunityID) {
		return nil, Filing{}, apperr.ErrForbidden
	}
	role, err := MemberRole(ctx, hs, h.ID, in.PersonID, "intake.personId")
	if err != nil {
		return nil, Filing{}, err
	}
	return h, Filing{PersonID: in.PersonID, Role: role, Record: &Record{Channel: in.Channel, FiledBy: c.ID, FiledAt: now}}, nil
}

// PersonMembers finds the households people belong to.
type PersonMembers interface {
	MembershipsByPersons(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
}

// ResolveCommunity is Resolve for an item of a community that belongs to no
// household (a fault in a lobby or a lift): who may report it at all is the
// domain's rule; this one checks the channel as Resolve does and the person
// named. A resident reports for themselves. Staff may name the resident who
// rang or walked in, who must live in the community, so they follow the
// item as its reporter; staff naming nobody (they found it on their round)
// record only the channel, and no intake at all is a find on site.
func ResolveCommunity(ctx context.Context, ms PersonMembers, c *access.Caller, communityID string, in *Input, now time.Time) (Filing, error) {
	if in == nil {
		if c.IsPerson() {
			return Filing{PersonID: c.ID}, nil
		}
		return Filing{}, nil
	}
	if !slices.Contains(Channels, in.Channel) {
		return Filing{}, apperr.Invalid("intake.channel", "input.bad_value")
	}
	now = now.UTC()
	if c.IsPerson() {
		if !slices.Contains(residentChannels, in.Channel) {
			return Filing{}, apperr.Invalid("intake.channel", "intake.resident_channel")
		}
		if in.PersonID != "" && in.PersonID != c.ID {
			return Filing{}, apperr.Invalid("intake.personId", "intake.not_self")
		}
		return Filing{PersonID: c.ID, Record: &Record{Channel: in.Channel, FiledAt: now}}, nil
	}
	if in.Channel == App {
		return Filing{}, apperr.Invalid("intake.channel", "intake.staff_channel")
	}
	f := Filing{Record: &Record{Channel: in.Channel, FiledBy: c.ID, FiledAt: now}}
	if in.PersonID == "" {
		return f, nil
	}
	if err := validate.ID("intake.personId", in.PersonID); err != nil {
		return Filing{}, err
	}
	of, err := ms.MembershipsByPersons(ctx, []string{in.PersonID})
	if err != nil {
		return Filing{}, fmt.Errorf("intake resident: %w", err)
	}
	for _, m := range of[in.PersonID] {
		if m.CommunityID == communityID {
			f.PersonID = in.PersonID
			return f, nil
		}
	}
	return Filing{}, apperr.Invalid("intake.personId", "intake.not_resident")
}

// Members lists a household's members.
type Members interface {
	MembershipsByHouseholds(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
}

// MemberRole is personID's role in householdID, or BAD_USER_INPUT on field
// when they are not a member: staff name the resident they act for, and it
// must be one of the household's.
func MemberRole(ctx context.Context, hs Members, householdID, personID, field string) (access.Role, error) {
	if err := validate.ID(field, personID); err != nil {
		return "", err
	}
	ms, err := hs.MembershipsByHouseholds(ctx, []string{householdID})
	if err != nil {
		return "", fmt.Errorf("intake members: %w", err)
	}
	for _, m := range ms[householdID] {
		if m.PersonID == personID {
			return m.Role, nil
		}
	}
	return "", apperr.Invalid(field, "intake.not_member")
}

// MayFileFor reports staff who may file on a resident's behalf in community.
func MayFileFor(c *access.Caller, communityID string) bool {
	return c.IsAdmin() || c.StaffIn(communityID, Filers...)
}

func init() {
	apperr.Register(map[string]apperr.Text{
		"intake.resident_channel": {ZH: "居民自行提交只能通过 APP 或微信", EN: "Residents file through the app or WeChat"},
		"intake.staff_channel":    {ZH: "代为登记请选择电话、前台、上门或微信渠道", EN: "Staff filing names the phone, desk, visit or WeChat channel"},
		"intake.not_self":         {ZH: "居民只能为本人提交", EN: "Residents file for themselves"},
		"intake.visit_only":       {ZH: "代为签收只能在上门时进行", EN: "Signing on a resident's behalf happens on a visit"},
		"intake.not_member":       {ZH: "该人员不是此户成员", EN: "This person is not a member of the household"},
		"intake.not_resident":     {ZH: "该人员不是本小区住户", EN: "This person does not live in this community"},
	})
}
