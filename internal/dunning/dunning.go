// Package dunning chases arrears courteously, step by step (先礼后兵): a
// friendly reminder in the app or mini program, a second notice, a phone
// call or visit by the household's butler with its result, a formal written
// notice, and only then a lawyer's letter, which a supervisor must approve.
// One case per arrears episode of a household, moved by the guarded steps of
// internal/platform/lifecycle, so no step is skipped, repeated early, or
// taken twice by two servers; a household with an open dispute or relief is
// held back.
package dunning

import (
	"time"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
)

// Status is the last step a case has reached.
type Status string

const (
	Opened        Status = "OPENED"         // in arrears, nothing sent yet
	Reminded      Status = "REMINDED"       // 友好提醒 in the app / mini program
	Noticed       Status = "NOTICED"        // 再次通知
	Called        Status = "CALLED"         // 电话或上门, result recorded
	WrittenNotice Status = "WRITTEN_NOTICE" // 书面催缴通知书
	LegalAsked    Status = "LEGAL_REQUESTED"
	LegalLetter   Status = "LEGAL_LETTER" // 律师函, approved by a supervisor
	Closed        Status = "CLOSED"       // arrears cleared
)

// Step is a step of the ladder, as staff record it.
type Step string

const (
	StepReminder      Step = "REMINDER"
	StepSecondNotice  Step = "SECOND_NOTICE"
	StepCall          Step = "CALL_OR_VISIT"
	StepWrittenNotice Step = "WRITTEN_NOTICE"
	StepLegalLetter   Step = "LEGAL_LETTER"
)

// Ladder is the order of the steps.
var Ladder = []Step{StepReminder, StepSecondNotice, StepCall, StepWrittenNotice, StepLegalLetter}

// Machine is the ladder as legal moves. A call may be made again (a broken
// promise) after the interval; a refused legal request goes back to the
// written notice; any open case closes when the arrears are cleared.
var Machine = lifecycle.Machine[Status]{
	"REMINDER":       {From: []Status{Opened}, To: Reminded},
	"SECOND_NOTICE":  {From: []Status{Reminded}, To: Noticed},
	"CALL_OR_VISIT":  {From: []Status{Noticed, Called}, To: Called},
	"WRITTEN_NOTICE": {From: []Status{Called}, To: WrittenNotice},
	"LEGAL_LETTER":   {From: []Status{WrittenNotice}, To: LegalAsked},
	"LEGAL_APPROVE":  {From: []Status{LegalAsked}, To: LegalLetter},
	"LEGAL_REJECT":   {From: []Status{LegalAsked}, To: WrittenNotice},
	"CLOSE":          {From: []Status{Opened, Reminded, Noticed, Called, WrittenNotice, LegalAsked, LegalLetter}, To: Closed},
}

// Outcome is what a call or visit found.
type Outcome string

const (
	Promised      Outcome = "PROMISED"       // will pay by PromisedDate
	Dispute       Outcome = "DISPUTE"        // disputes the fee or the service: held until resolved
	HardshipFound Outcome = "HARDSHIP_FOUND" // a family in hardship: held, relief to be considered
	NoContact     Outcome = "NO_CONTACT"     // nobody reached
	Refused       Outcome = "REFUSED"        // reached, will not pay

	// A supervisor's decision on a requested lawyer's letter.
	Approved            Outcome = "APPROVED"
	RefusedBySupervisor Outcome = "REFUSED_BY_SUPERVISOR"
)

// Outcomes of a call or visit.
var Outcomes = []Outcome{Promised, Dispute, HardshipFound, NoContact, Refused}

// Record is one step taken.
type Record struct {
	Step         Step      `bson:"step"`
	Outcome      Outcome   `bson:"outcome,omitempty"`
	PromisedDate string    `bson:"promisedDate,omitempty"` // YYYY-MM-DD
	Note         string    `bson:"note,omitempty"`
	ByID         string    `bson:"byId"` // staff id, or "system:dunning"
	At           time.Time `bson:"at"`
	ArrearsFen   int64     `bson:"arrearsFen"` // owed when the step was taken
	// Notice is the written notice as issued (WRITTEN_NOTICE): frozen, so
	// it reads the same however often it is opened, whatever is paid later.
	Notice *Notice `bson:"notice,omitempty"`
}

// Case is one household's arrears episode: opened when its bills fall
// overdue, closed when they are paid.
type Case struct {
	ID          string            `bson:"_id"` // "<householdId>#<n>"
	CommunityID string            `bson:"communityId"`
	BuildingID  string            `bson:"buildingId"`
	HouseholdID string            `bson:"householdId"`
	Status      Status            `bson:"status"`
	Version     int               `bson:"version"`
	Records     []Record          `bson:"records"`
	ArrearsFen  int64             `bson:"arrearsFen"` // as last seen
	OpenedAt    time.Time         `bson:"openedAt"`
	LastStepAt  *time.Time        `bson:"lastStepAt,omitempty"`
	HeldUntil   string            `bson:"heldUntil,omitempty"` // a promise: no step before this date
	Hold        Outcome           `bson:"hold,omitempty"`      // DISPUTE or HARDSHIP_FOUND from a call
	Timeline    []lifecycle.Entry `bson:"timeline"`
	UpdatedAt   time.Time         `bson:"updatedAt"`
	ClosedAt    *time.Time        `bson:"closedAt,omitempty"`
}

// Open reports whether the case still chases arrears.
func (c *Case) Open() bool { return c.Status != Closed }

// Next is the step the ladder expects next; ok is false when none does (a
// lawyer's letter decided, a closed case).
func (c *Case) Next() (Step, bool) {
	st := next(c.Status)
	return st, st != ""
}

// Last is the last step taken, if any.
func (c *Case) Last() (Record, bool) {
	if len(c.Records) == 0 {
		return Record{}, false
	}
	return c.Records[len(c.Records)-1], true
}

// Errors of the ladder. A hold names its reason, never anyone's details.
var (
	ErrNoCase       = apperr.New(apperr.Conflict, "dunning.no_case")
	ErrTooSoon      = apperr.New(apperr.Conflict, "dunning.too_soon")
	ErrOutOfTurn    = apperr.New(apperr.Conflict, "dunning.out_of_turn")
	ErrHeldDispute  = apperr.New(apperr.Conflict, "dunning.held_dispute")
	ErrHeldRelief   = apperr.New(apperr.Conflict, "dunning.held_relief")
	ErrHeldHardship = apperr.New(apperr.Conflict, "dunning.held_hardship")
	ErrHeldPromise  = apperr.New(apperr.Conflict, "dunning.held_promise")
)

// Why a household is held back, as Holds report it.
const (
	HoldDispute = "DISPUTE" // an open complaint about the fee or the service
	HoldRelief  = "RELIEF"  // relief granted for the periods owed
)

func heldError(reason string) error {
	switch reason {
	case HoldDispute: // also a call's DISPUTE finding
		return ErrHeldDispute
	case HoldRelief:
		return ErrHeldRelief
	default:
		return ErrHeldHardship
	}
}

func init() {
	apperr.Register(map[string]apperr.Text{
		"dunning.no_case":       {ZH: "该户目前没有欠费", EN: "This household has no arrears now"},
		"dunning.too_soon":      {ZH: "距上一步不足规定间隔，%v 后才能进行下一步", EN: "Too soon after the last step; the next step is possible from %v"},
		"dunning.out_of_turn":   {ZH: "催缴需按顺序进行，下一步应为：%v", EN: "Reminders go in order; the next step is %v"},
		"dunning.held_dispute":  {ZH: "该户有未处理完的投诉或争议，暂缓催缴", EN: "On hold: the household has an open complaint or dispute"},
		"dunning.held_relief":   {ZH: "该户已获批费用减免，暂缓催缴", EN: "On hold: fee relief has been granted to the household"},
		"dunning.held_hardship": {ZH: "走访发现家庭困难，待评估减免，暂缓催缴", EN: "On hold: hardship was found on a visit; relief is to be considered"},
		"dunning.held_promise":  {ZH: "业主承诺 %v 前缴费，暂缓催缴", EN: "On hold: the owner promised to pay by %v"},
	})
}
