// Package access describes who is asking: the caller of a request with the
// roles and scopes loaded for it, and the questions every domain service asks
// before it reads or changes anything.
package access

import (
	"context"
	"slices"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
)

// Role is a staff role or a person's role in one household.
type Role string

const (
	// Staff roles.
	Butler     Role = "BUTLER"     // 管家/客服
	Engineer   Role = "ENGINEER"   // 工程/维修
	Supervisor Role = "SUPERVISOR" // 主管
	Security   Role = "SECURITY"   // 秩序维护
	Cleaner    Role = "CLEANER"    // 保洁
	Admin      Role = "ADMIN"
	// CustomerService works the front desk and the family hotline
	// (客户服务中心/亲情电话): takes calls and enquiries and files requests
	// on residents' behalf, without a butler's care duties.
	CustomerService Role = "CUSTOMER_SERVICE"
	// Finance is the finance clerk (财务): sees everything financial in
	// their communities (bills, payments, receipts, reconciliation,
	// statements) and nothing of the care archive.
	Finance Role = "FINANCE"
	// Inspector is the quality inspector (品质专员): checks areas against
	// the written standards and re-checks what was corrected.
	Inspector Role = "INSPECTOR"
	// SecuritySupervisor leads the guards (秩序维护主管): patrol routes,
	// missed checkpoints, incidents.
	SecuritySupervisor Role = "SECURITY_SUPERVISOR"

	// Household roles.
	Owner  Role = "OWNER"  // 业主
	Family Role = "FAMILY" // 家属
	Tenant Role = "TENANT" // 租户
)

// StaffRoles and HouseholdRoles list the valid values of each side.
var (
	StaffRoles     = []Role{Butler, Engineer, Supervisor, Security, Cleaner, Admin, CustomerService, Finance, Inspector, SecuritySupervisor}
	HouseholdRoles = []Role{Owner, Family, Tenant}
)

// Membership is a person's place in one household.
type Membership struct {
	HouseholdID string
	CommunityID string
	Role        Role
}

// Caller is the authenticated principal of one request.
type Caller struct {
	Kind    auth.Kind
	ID      string
	Session string

	// Staff side.
	CompanyID   string
	Roles       []Role
	Communities []string // communities this staff member works in
	Buildings   []string // buildings a butler is responsible for
	Households  []string // households a butler is responsible for individually

	// Person side.
	Memberships []Membership
}

// IsStaff reports a staff caller.
func (c *Caller) IsStaff() bool { return c != nil && c.Kind == auth.KindStaff }

// IsPerson reports an owner-side caller.
func (c *Caller) IsPerson() bool { return c != nil && c.Kind == auth.KindPerson }

// Has reports whether a staff caller holds any of roles.
func (c *Caller) Has(roles ...Role) bool {
	if !c.IsStaff() {
		return false
	}
	for _, r := range roles {
		if slices.Contains(c.Roles, r) {
			return true
		}
	}
	return false
}

// IsAdmin is a company administrator: manages staff and communities and may
// see every community of the company.
func (c *Caller) IsAdmin() bool { return c.Has(Admin) }

// WorksIn reports whether a staff caller may act in community.
func (c *Caller) WorksIn(community string) bool {
	if !c.IsStaff() {
		return false
	}
	return c.IsAdmin() || slices.Contains(c.Communities, community)
}

// StaffIn reports whether the caller works in community with any of roles.
func (c *Caller) StaffIn(community string, roles ...Role) bool {
	return c.WorksIn(community) && c.Has(roles...)
}

// SupervisesIn reports a supervisor of community.
func (c *Caller) SupervisesIn(community string) bool {
	return c.IsStaff() && slices.Contains(c.Communities, community) && c.Has(Supervisor)
}

// ActsAsOwner is the first-contact rule (首问责任制) for a request owned by
// ownerStaffID in community: its owner, or a supervisor of the community
// standing in. Everyone else has it handed over first, so a repair or a
// complaint never has two people moving it on.
func (c *Caller) ActsAsOwner(ownerStaffID, community string) bool {
	return c.IsStaff() && ((ownerStaffID != "" && c.ID == ownerStaffID) || c.SupervisesIn(community))
}

// RoleIn is the caller's role in household, if a member.
func (c *Caller) RoleIn(household string) (Role, bool) {
	if !c.IsPerson() {
		return "", false
	}
	for _, m := range c.Memberships {
		if m.HouseholdID == household {
			return m.Role, true
		}
	}
	return "", false
}

// VisibleCommunities is the scope of a staff list query: nil means all (admin).
func (c *Caller) VisibleCommunities() []string {
	if c.IsAdmin() {
		return nil
	}
	return c.Communities
}

// HouseholdRef is what access rules need to know about a household.
type HouseholdRef struct {
	ID          string
	CommunityID string
	BuildingID  string
}

// ButlerOf reports whether the caller is the butler responsible for h: by its
// building or by the household itself, in h's community.
func (c *Caller) ButlerOf(h HouseholdRef) bool {
	if !c.Has(Butler) || !slices.Contains(c.Communities, h.CommunityID) {
		return false
	}
	return slices.Contains(c.Buildings, h.BuildingID) || slices.Contains(c.Households, h.ID)
}

// CanSeeHousehold: members of the household, and staff of its community.
func (c *Caller) CanSeeHousehold(h HouseholdRef) bool {
	if _, ok := c.RoleIn(h.ID); ok {
		return true
	}
	return c.WorksIn(h.CommunityID)
}

// CanReadSensitive guards health and hardship details of the archive: only the
// household's responsible butler and the supervisors of its community. Not
// admins, not other staff, not residents (DOMAIN.md, family-care archive).
func (c *Caller) CanReadSensitive(h HouseholdRef) bool {
	return c.ButlerOf(h) || c.SupervisesIn(h.CommunityID)
}

type ctxKey struct{}

// Resolver loads a caller's roles and scopes for a verified identity.
type Resolver interface {
	ResolveCaller(ctx context.Context, id auth.Identity) (*Caller, error)
}

type lazy struct {
	get func() (*Caller, error)
}

// WithLazyCaller attaches a caller that is loaded on first use and then kept
// for the rest of the request, so anonymous requests cost no database trip.
func WithLazyCaller(ctx context.Context, get func() (*Caller, error)) context.Context {
	return context.WithValue(ctx, ctxKey{}, &lazy{get: get})
}

// WithCaller attaches an already loaded caller (background jobs, tests).
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return WithLazyCaller(ctx, func() (*Caller, error) { return c, nil })
}

// CallerFrom returns the caller, or nil when the request is anonymous.
func CallerFrom(ctx context.Context) (*Caller, error) {
	l, ok := ctx.Value(ctxKey{}).(*lazy)
	if !ok || l == nil {
		return nil, nil
	}
	return l.get()
}

// Require returns the caller or UNAUTHENTICATED.
func Require(ctx context.Context) (*Caller, error) {
	c, err := CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	return c, nil
}
