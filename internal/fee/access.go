package fee

import (
	"qinqing/internal/access"
)

// The access rules of fees, in one place; payment, dunning and finance ask
// them too.

// ManagesSchedule: supervisors and finance clerks of the community set fee
// items, enter meter readings, generate bills, and cancel and reissue
// them (who issues bills withdraws them); admins everywhere.
func ManagesSchedule(c *access.Caller, communityID string) bool {
	return c.IsAdmin() || c.StaffIn(communityID, access.Supervisor, access.Finance)
}

// ReadsFinance: finance clerks and supervisors see everything financial in
// their communities (every household's bills, payments, reconciliation);
// admins everywhere.
func ReadsFinance(c *access.Caller, communityID string) bool {
	return c.IsAdmin() || c.StaffIn(communityID, access.Supervisor, access.Finance)
}

// RecordsPayments: the front desk takes payments at the counter (收费), as
// do finance clerks and supervisors of the community; admins everywhere.
func RecordsPayments(c *access.Caller, communityID string) bool {
	return c.IsAdmin() || c.StaffIn(communityID, access.CustomerService, access.Finance, access.Supervisor)
}

// SeesHouseholdBills says whether c may see the bills of household h:
// its owners and family members; its tenants only when an owner allows it
// (tenantsAllowed); the staff who read finance or take payments in its
// community; and its own butler, who makes the courteous reminder calls
// (先礼后兵). Nobody else, whatever the path (a list, a receipt, a nested
// field).
func SeesHouseholdBills(c *access.Caller, h access.HouseholdRef, tenantsAllowed bool) bool {
	if c.IsPerson() {
		role, ok := c.RoleIn(h.ID)
		if !ok {
			return false
		}
		return role == access.Owner || role == access.Family || (role == access.Tenant && tenantsAllowed)
	}
	return ReadsFinance(c, h.CommunityID) || RecordsPayments(c, h.CommunityID) || c.ButlerOf(h)
}

// GrantsRelief: supervisors of the community grant fee relief (减免) and
// approve legal steps; not finance clerks, not admins (a care decision).
func GrantsRelief(c *access.Caller, communityID string) bool {
	return c.SupervisesIn(communityID)
}
