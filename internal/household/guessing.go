package household

import (
	"context"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/ratelimit"
)

// ErrTooManyPhoneAdds refuses a caller who types more phone numbers into
// addHouseholdMember than registering a family needs: what remains of the
// "is this phone registered?" signal (staff learn that a phone is held
// somewhere; see docs/MEMBERSHIP.md) must not be harvestable by walking a
// number range, and residents must not spam invitations.
var ErrTooManyPhoneAdds = apperr.New(apperr.RateLimited, "household.too_many_phone_adds")

func init() {
	apperr.Register(map[string]apperr.Text{
		"household.too_many_phone_adds": {ZH: "添加成员过于频繁，请稍后再试", EN: "Too many members added by phone number; please try again later"},
	})
}

// Phone-add budgets per caller. A family is a handful of people; the front
// desk registering a new building's residents adds many more, so staff get a
// larger, still bounded budget.
var (
	residentPhoneAdds = [2]ratelimit.Rule{{Window: time.Hour, Max: 10}, {Window: 24 * time.Hour, Max: 20}}
	staffPhoneAdds    = [2]ratelimit.Rule{{Window: time.Hour, Max: 60}, {Window: 24 * time.Hour, Max: 300}}
)

// UseLimiter turns on the per-caller limit on adds by phone number.
func (s *Service) UseLimiter(l *ratelimit.Limiter) { s.limits = l }

// allowPhoneAdd counts one add by phone for c, before the phone is looked up.
func (s *Service) allowPhoneAdd(ctx context.Context, c *access.Caller) error {
	// Admins see every person of the company already: a phone they type
	// reveals nothing new, and the seed and bulk registration run as admin.
	if s.limits == nil || c.IsAdmin() {
		return nil
	}
	budget := residentPhoneAdds
	if c.IsStaff() {
		budget = staffPhoneAdds
	}
	wait, err := s.limits.Allow(ctx,
		ratelimit.Rule{Key: "member-phone:" + c.ID + ":h", Window: budget[0].Window, Max: budget[0].Max},
		ratelimit.Rule{Key: "member-phone:" + c.ID + ":d", Window: budget[1].Window, Max: budget[1].Max})
	if err != nil {
		return err
	}
	if wait > 0 {
		return ErrTooManyPhoneAdds.WithRetryAfter(wait)
	}
	return nil
}
