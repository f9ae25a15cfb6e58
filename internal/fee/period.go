package fee

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/validate"
)

var (
	periodRe = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)
	dateRe   = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`)
)

// Errors of the schedule and billing; messages below.
var (
	ErrCommunityNotFound = apperr.New(apperr.NotFound, "fee.community_not_found")
	ErrVersionConflict   = apperr.New(apperr.Conflict, "fee.version_conflict")
	ErrPeriodBilled      = apperr.New(apperr.Conflict, "fee.period_billed")
	ErrHouseholdNotFound = apperr.New(apperr.NotFound, "fee.household_not_found")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"fee.community_not_found":  {ZH: "小区不存在", EN: "Community not found"},
		"fee.household_not_found":  {ZH: "房屋不存在", EN: "Household not found"},
		"fee.version_conflict":     {ZH: "收费项目已被他人修改，请刷新后重试", EN: "The fee item was changed by someone else; reload and try again"},
		"fee.period_billed":        {ZH: "%s 已出账，不能再录入该期抄表", EN: "Period %s is already billed; its readings can no longer be entered"},
		"fee.bad_period":           {ZH: "须为 YYYY-MM 格式的月份", EN: "must be a month as YYYY-MM"},
		"fee.bad_date":             {ZH: "须为 YYYY-MM-DD 格式的日期", EN: "must be a date as YYYY-MM-DD"},
		"fee.rate_range":           {ZH: "须在 0 到 %d 分之间", EN: "must be between 0 and %d fen"},
		"fee.bad_kind":             {ZH: "收费类型无效", EN: "is not a known fee kind"},
		"fee.apportion_required":   {ZH: "公摊费用须选择分摊方式", EN: "is required for a shared charge"},
		"fee.bad_code":             {ZH: "须为 1 到 20 位大写字母、数字或连字符", EN: "must be 1 to 20 capital letters, digits or hyphens"},
		"fee.effective_before":     {ZH: "不能早于上一版本的生效月份 %s", EN: "cannot be before the previous version's first period %s"},
		"fee.kind_changed":         {ZH: "不能修改已有收费项目的类型", EN: "cannot change for an existing fee item"},
		"fee.version_required":     {ZH: "修改已有收费项目须给出当前版本号", EN: "is required when changing an existing fee item"},
		"fee.reading_order":        {ZH: "本期读数不能小于上期读数", EN: "must not be less than the previous reading"},
		"fee.space_taken":          {ZH: "车位 %s 已分配给其他房屋", EN: "Parking space %s is assigned to another household"},
		"fee.space_not_found":      {ZH: "车位不存在", EN: "Parking space not found"},
		"fee.tenant_access_owners": {ZH: "只有业主可以设置租户查看账单", EN: "Only owners can let tenants see the bills"},
	})
}

// checkPeriod validates a billing period argument.
func checkPeriod(field, p string) error {
	if !periodRe.MatchString(p) {
		return apperr.Invalid(field, "fee.bad_period")
	}
	return nil
}

// currentPeriod is the month now is in, in the community's time zone.
func currentPeriod(com *community.Community, now time.Time) string {
	return now.In(com.Location()).Format("2006-01")
}

// today is the date now is, in the community's time zone.
func today(com *community.Community, now time.Time) string {
	return now.In(com.Location()).Format("2006-01-02")
}

// daysBetween counts whole days from date a to date b ("YYYY-MM-DD").
func daysBetween(a, b string) int {
	ta, err1 := time.Parse("2006-01-02", a)
	tb, err2 := time.Parse("2006-01-02", b)
	if err1 != nil || err2 != nil {
		return 0
	}
	return int(tb.Sub(ta).Hours() / 24)
}

// periodSortKey orders newest period first under ascending order.
func periodSortKey(period, id string) string {
	var y, m int
	fmt.Sscanf(period, "%d-%d", &y, &m)
	return fmt.Sprintf("%06d|%s", 999999-(y*12+m), id)
}

// staffCommunity loads a community for staff work on it: an unknown one,
// or one the caller does not work in, is NOT_FOUND naming field; allowed
// says whether the caller may do the work (FORBIDDEN otherwise).
func (s *Service) staffCommunity(ctx context.Context, c *access.Caller, field, id string, allowed func(*access.Caller, string) bool) (*community.Community, error) {
	if err := validate.ID(field, id); err != nil {
		return nil, err
	}
	com, err := s.communities.Zone(ctx, id)
	if errors.Is(err, community.ErrNotFound) || (err == nil && !c.IsAdmin() && !c.WorksIn(id)) {
		return nil, ErrCommunityNotFound.WithField(field)
	}
	if err != nil {
		return nil, fmt.Errorf("community %s: %w", id, err)
	}
	if !allowed(c, id) {
		return nil, apperr.ErrForbidden
	}
	return com, nil
}

// readerCommunity loads a community for reading its schedule: its staff and
// its residents; NOT_FOUND for anyone else.
func (s *Service) readerCommunity(ctx context.Context, c *access.Caller, field, id string) (*community.Community, error) {
	if err := validate.ID(field, id); err != nil {
		return nil, err
	}
	ok := c.IsAdmin() || c.WorksIn(id)
	for _, m := range c.Memberships {
		ok = ok || m.CommunityID == id
	}
	if !ok {
		return nil, ErrCommunityNotFound.WithField(field)
	}
	com, err := s.communities.Zone(ctx, id)
	if errors.Is(err, community.ErrNotFound) {
		return nil, ErrCommunityNotFound.WithField(field)
	}
	if err != nil {
		return nil, fmt.Errorf("community %s: %w", id, err)
	}
	return com, nil
}
