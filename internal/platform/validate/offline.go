package validate

import (
	"time"

	"qinqing/internal/platform/apperr"
)

// The bounds of an offline record (an inspection, a checkpoint scan, a
// maintenance completion, an incident report) uploaded from a phone with
// the time it happened: a phone's clock may run a few minutes ahead, and
// an upload older than a week is no record anyone can vouch for.
const (
	OfflineSkew = 5 * time.Minute
	OfflineAge  = 7 * 24 * time.Hour
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"input.offline_future": {ZH: "不能晚于现在", EN: "must not be in the future"},
		"input.offline_old":    {ZH: "只能补录 7 天内的记录", EN: "must be within the last 7 days"},
	})
}

// Offline checks the time at of an offline record against now: not more
// than OfflineSkew ahead, not more than OfflineAge old. The error names field.
func Offline(field string, at, now time.Time) error {
	switch {
	case at.After(now.Add(OfflineSkew)):
		return apperr.Invalid(field, "input.offline_future")
	case at.Before(now.Add(-OfflineAge)):
		return apperr.Invalid(field, "input.offline_old")
	}
	return nil
}
