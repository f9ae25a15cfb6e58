package activity

import "qinqing/internal/platform/apperr"

var (
	ErrNotFound          = apperr.New(apperr.NotFound, "activity.not_found")
	ErrSignUpNotFound    = apperr.New(apperr.NotFound, "activity.signup_not_found")
	ErrCodeNotFound      = apperr.New(apperr.NotFound, "activity.code_not_found")
	ErrCancelled         = apperr.New(apperr.Conflict, "activity.cancelled")
	ErrStarted           = apperr.New(apperr.Conflict, "activity.started")
	ErrSignUpsClosed     = apperr.New(apperr.Conflict, "activity.signups_closed")
	ErrDeadlinePassed    = apperr.New(apperr.Conflict, "activity.deadline_passed")
	ErrAlreadySignedUp   = apperr.New(apperr.Conflict, "activity.already_signed_up")
	ErrFull              = apperr.New(apperr.Conflict, "activity.full")
	ErrBelowTaken        = apperr.New(apperr.Conflict, "activity.capacity_below_taken")
	ErrNotCovered        = apperr.New(apperr.BadUserInput, "activity.not_covered")
	ErrAlreadyCheckedIn  = apperr.New(apperr.Conflict, "activity.already_checked_in")
	ErrNotConfirmed      = apperr.New(apperr.Conflict, "activity.not_confirmed")
	ErrCheckInClosed     = apperr.New(apperr.Conflict, "activity.checkin_closed")
	ErrCheckedInNoCancel = apperr.New(apperr.Conflict, "activity.checked_in_no_cancel")
	ErrFeedbackNotOpen   = apperr.New(apperr.Conflict, "activity.feedback_not_open")
	ErrFeedbackClosed    = apperr.New(apperr.Conflict, "activity.feedback_closed")
	ErrNotParticipant    = apperr.New(apperr.Forbidden, "activity.not_participant")
	ErrFeedbackGiven     = apperr.New(apperr.Conflict, "activity.feedback_given")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"activity.not_found":            {ZH: "活动不存在", EN: "Event not found"},
		"activity.signup_not_found":     {ZH: "您家没有报名此活动", EN: "Your household has not signed up for this event"},
		"activity.code_not_found":       {ZH: "签到码无效（不是本活动的报名）", EN: "This check-in code is not a sign-up of this event"},
		"activity.cancelled":            {ZH: "活动已取消", EN: "This event was cancelled"},
		"activity.started":              {ZH: "活动已于 %s 开始", EN: "The event began at %s"},
		"activity.signups_closed":       {ZH: "报名已于 %s 截止", EN: "Sign-ups closed at %s"},
		"activity.deadline_passed":      {ZH: "报名截止时间（%s）已过，请先修改截止时间", EN: "The sign-up deadline (%s) has passed; change it first"},
		"activity.already_signed_up":    {ZH: "您家已报名此活动（%s）", EN: "Your household has already signed up (%s)"},
		"activity.full":                 {ZH: "名额已满，候补名单也已满", EN: "The event is full, and so is its waiting list"},
		"activity.capacity_below_taken": {ZH: "已有 %d 人报名，名额不能少于此数", EN: "%d places are taken; the capacity cannot be lower"},
		"activity.not_covered":          {ZH: "该活动不面向此房屋所在楼栋", EN: "is not in this event's audience"},
		"activity.already_checked_in":   {ZH: "该报名已于 %s 签到，请勿重复签到", EN: "Already checked in at %s"},
		"activity.not_confirmed":        {ZH: "该报名不是正式报名（%s），不能签到", EN: "This sign-up is not confirmed (%s); it cannot check in"},
		"activity.checkin_closed":       {ZH: "签到时间为活动开始前 %d 小时至活动结束", EN: "Check-in is open from %d hours before the start until the end"},
		"activity.checked_in_no_cancel": {ZH: "已签到，不能取消报名", EN: "Already checked in; the sign-up cannot be cancelled"},
		"activity.feedback_not_open":    {ZH: "活动结束后才能评价", EN: "Feedback opens when the event is over"},
		"activity.feedback_closed":      {ZH: "评价已于活动结束 %d 天后截止", EN: "Feedback closed %d days after the event"},
		"activity.not_participant":      {ZH: "只有到场签到的住户可以评价", EN: "Only households that checked in may give feedback"},
		"activity.feedback_given":       {ZH: "您家已评价过此活动", EN: "Your household has already given feedback"},
		// Field messages.
		"activity.bad_party":            {ZH: "每户报名人数应在 1 到 %d 之间", EN: "must be between 1 and %d"},
		"activity.ends_before_start":    {ZH: "结束时间应晚于开始时间", EN: "must be after the start"},
		"activity.too_long":             {ZH: "活动时长不能超过 %d 天", EN: "an event lasts at most %d days"},
		"activity.past":                 {ZH: "应晚于当前时间", EN: "must be in the future"},
		"activity.too_far":              {ZH: "最多提前 %d 天", EN: "must be within %d days from now"},
		"activity.deadline_after_start": {ZH: "报名截止时间不能晚于活动开始时间", EN: "must not be after the start"},
		"activity.party_over_capacity":  {ZH: "每户人数上限不能超过活动名额", EN: "must not exceed the capacity"},
		"activity.scope_fixed":          {ZH: "活动发布后不能修改楼栋范围", EN: "cannot change once the event is published"},
	})
}
