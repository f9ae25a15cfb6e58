package dunning

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/fee"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/pdf"
	"qinqing/internal/platform/validate"
)

const colCases = "dunning_cases"

func init() {
	lifecycle.Declare(colCases)
	mongo.Declare(mongo.Indexes{Collection: colCases, Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "householdId", Value: 1}, {Key: "status", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "status", Value: 1}}},
	}})
}

// Owing is what a household owes on bills past their due date.
type Owing struct {
	HouseholdID string
	CommunityID string
	BuildingID  string
	Fen         int64
	OldestDue   string // YYYY-MM-DD of the oldest unpaid bill past due
}

// Arrears reads what households owe (the fee domain).
type Arrears interface {
	// OverdueIn lists the community's households owing on bills due
	// before today (YYYY-MM-DD in the community).
	OverdueIn(ctx context.Context, communityID, today string) ([]Owing, error)
}

// Holds says which households must not be chased now, and why (HoldDispute:
// an open complaint about the fee or the service; HoldRelief: relief
// granted).
type Holds interface {
	Held(ctx context.Context, householdIDs []string, today string) (map[string]string, error)
}

// Households reads the register.
type Households interface {
	ByIDs(ctx context.Context, ids []string) (map[string]*household.Household, error)
	MembershipsByHouseholds(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
}

// Sender is the notification engine.
type Sender interface {
	Send(ctx context.Context, m notify.Message) (int, error)
}

// Config wires the service.
type Config struct {
	DB          *mongo.DB
	Arrears     Arrears
	Communities Communities // for TickAll
	Holds       []Holds
	Households  Households
	Sender      Sender
	Zone        func(communityID string) *time.Location
	Now         func() time.Time
	// Interval is the least time between two steps of a case (default 7 days).
	Interval time.Duration
	// Grace is how long after a bill's due date the first reminder waits
	// (default 15 days).
	Grace time.Duration
	// Facts gather what a written notice states; PayWithinDays is the time
	// it gives to pay (default 15 days); Font renders it as a PDF (a
	// missing font fails the PDF only, never the step).
	Facts         NoticeFacts
	PayWithinDays int
	Font          *pdf.Font
	Log           *slog.Logger
}

// Service runs the ladder.
type Service struct {
	cfg      Config
	col      *mgo.Collection
	markers  *mgo.Collection // one per household with an open case
	numbers  *mgo.Collection // written notice numbers
	steps    *lifecycle.Store
	tickMu   sync.Mutex
	lastTick time.Time
}

// NewService makes the service.
func NewService(cfg Config) *Service {
	if cfg.Interval == 0 {
		cfg.Interval = 7 * 24 * time.Hour
	}
	if cfg.Grace == 0 {
		cfg.Grace = 15 * 24 * time.Hour
	}
	if cfg.PayWithinDays == 0 {
		cfg.PayWithinDays = 15
	}
	if cfg.Font == nil {
		cfg.Font = pdf.Locate("")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Zone == nil {
		cfg.Zone = func(string) *time.Location { return time.FixedZone("CST", 8*3600) }
	}
	return &Service{cfg: cfg, col: cfg.DB.Collection(colCases), markers: cfg.DB.Collection(colCases + "_open"), numbers: cfg.DB.Collection(colNoticeNumbers), steps: lifecycle.NewStore(cfg.DB, colCases, cfg.Now)}
}

// SystemID is who took the automatic steps (the reminders).
const SystemID = "system:dunning"

// system takes the automatic steps.
var system = &access.Caller{Kind: auth.KindStaff, ID: SystemID, Roles: []access.Role{access.Admin}}

// mayChase: the staff who record steps for a household: its butler, and
// the community's front desk, finance clerks and supervisors.
func mayChase(c *access.Caller, h access.HouseholdRef) bool {
	return c.ButlerOf(h) || fee.RecordsPayments(c, h.CommunityID) || fee.ReadsFinance(c, h.CommunityID)
}

// OpenCase is the household's open case, or nil.
func (s *Service) OpenCase(ctx context.Context, householdID string) (*Case, error) {
	var x Case
	err := s.col.FindOne(ctx, bson.D{{Key: "householdId", Value: householdID}, {Key: "status", Value: bson.D{{Key: "$ne", Value: Closed}}}}).Decode(&x)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open dunning case: %w", err)
	}
	return &x, nil
}

// OpenCasesFor are the open cases of households, keyed by household, for a
// caller who reads the community's arrears (finance, supervisors, the front
// desk); cases of communities the caller may not chase are left out. One
// query per batch of at most 500 households (the arrears list's page is 100).
func (s *Service) OpenCasesFor(ctx context.Context, c *access.Caller, householdIDs []string) (map[string]*Case, error) {
	out := make(map[string]*Case, len(householdIDs))
	for ids := range slices.Chunk(householdIDs, 500) {
		cases, err := mongo.FindAll[Case](ctx, s.col, bson.D{{Key: "householdId", Value: bson.D{{Key: "$in", Value: ids}}},
			{Key: "status", Value: bson.D{{Key: "$ne", Value: Closed}}}}, "open dunning cases")
		if err != nil {
			return nil, err
		}
		for _, x := range cases {
			if fee.RecordsPayments(c, x.CommunityID) || fee.ReadsFinance(c, x.CommunityID) {
				out[x.HouseholdID] = x
			}
		}
	}
	return out, nil
}

// Latest is the household's latest case for staff who may chase it: the
// open one, else the last closed one; nil when it never was in arrears.
func (s *Service) Latest(ctx context.Context, c *access.Caller, householdID string) (*Case, error) {
	h, err := s.household(ctx, householdID)
	if err != nil {
		return nil, err
	}
	if !mayChase(c, h.Ref()) {
		return nil, household.ErrNotFound
	}
	var x Case
	err = s.col.FindOne(ctx, bson.D{{Key: "householdId", Value: householdID}}, options.FindOne().SetSort(bson.D{{Key: "openedAt", Value: -1}})).Decode(&x)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("latest dunning case: %w", err)
	}
	return &x, nil
}

func (s *Service) household(ctx context.Context, id string) (*household.Household, error) {
	if err := validate.ID("householdId", id); err != nil {
		return nil, err
	}
	hs, err := s.cfg.Households.ByIDs(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	h := hs[id]
	if h == nil {
		return nil, household.ErrNotFound
	}
	return h, nil
}

// open starts a household's next case "<household>#<n>". A marker
// document per household (its _id) says which case is open: claimed by
// insert before the case is written, so two servers opening the same
// episode at once make one case, and removed when the case closes. A marker
// left behind by a closed case (a crash between closing and removing it) is
// cleared and the claim taken once more.
func (s *Service) open(ctx context.Context, o Owing, now time.Time) error {
	for attempt := 0; attempt < 2; attempt++ {
		n, err := s.col.CountDocuments(ctx, bson.D{{Key: "householdId", Value: o.HouseholdID}})
		if err != nil {
			return fmt.Errorf("count dunning cases: %w", err)
		}
		id := o.HouseholdID + "#" + strconv.FormatInt(n+1, 10)
		_, err = s.markers.InsertOne(ctx, bson.D{{Key: "_id", Value: o.HouseholdID}, {Key: "caseId", Value: id}})
		if mongo.IsDuplicate(err) {
			var m struct {
				CaseID string `bson:"caseId"`
			}
			if err := s.markers.FindOne(ctx, bson.D{{Key: "_id", Value: o.HouseholdID}}).Decode(&m); err != nil {
				return nil // removed meanwhile: the next run opens it
			}
			closed, err := s.col.CountDocuments(ctx, bson.D{{Key: "_id", Value: m.CaseID}, {Key: "status", Value: Closed}})
			if err != nil || closed == 0 {
				return err // another server's case is open (or being opened)
			}
			if _, err := s.markers.DeleteOne(ctx, bson.D{{Key: "_id", Value: o.HouseholdID}, {Key: "caseId", Value: m.CaseID}}); err != nil {
				return fmt.Errorf("clear dunning marker: %w", err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("claim dunning case: %w", err)
		}
		x := Case{ID: id, CommunityID: o.CommunityID, BuildingID: o.BuildingID, HouseholdID: o.HouseholdID,
			Status: Opened, Records: []Record{}, ArrearsFen: o.Fen, OpenedAt: now, UpdatedAt: now,
			Timeline: []lifecycle.Entry{{At: now, Action: "OPEN", To: string(Opened), ActorID: system.ID, ActorKind: string(system.Kind), Data: map[string]any{"arrearsFen": o.Fen, "oldestDue": o.OldestDue}}}}
		if _, err := s.col.InsertOne(ctx, x); err != nil && !mongo.IsDuplicate(err) {
			return fmt.Errorf("open dunning case: %w", err)
		}
		return nil
	}
	return nil
}

// closed removes the household's marker once its case x closed.
func (s *Service) closed(ctx context.Context, x *Case) error {
	if _, err := s.markers.DeleteOne(ctx, bson.D{{Key: "_id", Value: x.HouseholdID}, {Key: "caseId", Value: x.ID}}); err != nil {
		return fmt.Errorf("clear dunning marker: %w", err)
	}
	return nil
}

// StepInput is a step as staff record it.
type StepInput struct {
	Step         Step
	Outcome      Outcome
	PromisedDate string
	Note         string
}

// RecordStep records the household's next step of the ladder: in order,
// not before the interval since the last one, never while the household is
// held (an open dispute, relief, a call's finding or an owner's promise).
// A lawyer's letter is only asked for here; a supervisor decides it
// (DecideLegal).
func (s *Service) RecordStep(ctx context.Context, c *access.Caller, householdID string, in StepInput) (*Case, error) {
	h, err := s.household(ctx, householdID)
	if err != nil {
		return nil, err
	}
	if !mayChase(c, h.Ref()) {
		if c.IsPerson() || !c.WorksIn(h.CommunityID) {
			return nil, household.ErrNotFound
		}
		return nil, apperr.ErrForbidden
	}
	if !slices.Contains(Ladder, in.Step) {
		return nil, apperr.Invalid("input.step", "input.bad_value")
	}
	note, err := validate.Text("input.note", in.Note, in.Step == StepLegalLetter, 500)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now().UTC()
	today := now.In(s.cfg.Zone(h.CommunityID)).Format(time.DateOnly)
	rec := Record{Step: in.Step, Note: note, ByID: c.ID, At: now}
	if in.Step == StepCall {
		if !slices.Contains(Outcomes, in.Outcome) {
			return nil, apperr.Invalid("input.outcome", "input.required")
		}
		rec.Outcome = in.Outcome
		if in.Outcome == Promised {
			d, err := time.Parse(time.DateOnly, in.PromisedDate)
			if err != nil || d.Format(time.DateOnly) < today {
				return nil, apperr.Invalid("input.promisedDate", "input.bad_value")
			}
			rec.PromisedDate = d.Format(time.DateOnly)
		}
	} else if in.Outcome != "" || in.PromisedDate != "" {
		return nil, apperr.Invalid("input.outcome", "dunning.outcome_call_only")
	}
	x, err := s.OpenCase(ctx, householdID)
	if err != nil {
		return nil, err
	}
	if x == nil {
		return nil, ErrNoCase
	}
	if err := s.mayStep(ctx, x, in.Step, now, today); err != nil {
		return nil, err
	}
	if in.Step == StepWrittenNotice {
		return s.writtenNotice(ctx, c, x, h, rec, now)
	}
	return s.apply(ctx, c, x, string(in.Step), rec, now)
}

// mayStep checks order, interval and holds for step on x.
func (s *Service) mayStep(ctx context.Context, x *Case, step Step, now time.Time, today string) error {
	if _, err := Machine.Next(string(step), x.Status); err != nil {
		return ErrOutOfTurn.WithArgs(string(next(x.Status)))
	}
	if x.LastStepAt != nil && now.Before(x.LastStepAt.Add(s.cfg.Interval)) {
		return ErrTooSoon.WithArgs(x.LastStepAt.Add(s.cfg.Interval).In(s.cfg.Zone(x.CommunityID)).Format("2006-01-02 15:04"))
	}
	// A call's finding holds everything but the follow-up call.
	if x.Hold != "" && step != StepCall {
		return heldError(string(x.Hold))
	}
	if x.HeldUntil != "" && today <= x.HeldUntil && step != StepCall {
		return ErrHeldPromise.WithArgs(x.HeldUntil)
	}
	held, err := s.held(ctx, []string{x.HouseholdID}, today)
	if err != nil {
		return err
	}
	if why := held[x.HouseholdID]; why != "" {
		return heldError(why)
	}
	return nil
}

// held asks every hold source about households.
func (s *Service) held(ctx context.Context, ids []string, today string) (map[string]string, error) {
	out := map[string]string{}
	for _, h := range s.cfg.Holds {
		m, err := h.Held(ctx, ids, today)
		if err != nil {
			return nil, err
		}
		for id, why := range m {
			if out[id] == "" {
				out[id] = why
			}
		}
	}
	return out, nil
}

// next is the step the ladder expects from st.
func next(st Status) Step {
	switch st {
	case Opened:
		return StepReminder
	case Reminded:
		return StepSecondNotice
	case Noticed:
		return StepCall
	case Called:
		return StepWrittenNotice
	case WrittenNotice:
		return StepLegalLetter
	}
	return ""
}

// apply takes one step on x as a guarded lifecycle move.
func (s *Service) apply(ctx context.Context, c *access.Caller, x *Case, action string, rec Record, now time.Time) (*Case, error) {
	to, err := Machine.Next(action, x.Status)
	if err != nil {
		return nil, err
	}
	rec.ArrearsFen = x.ArrearsFen
	set := bson.D{{Key: "lastStepAt", Value: now}}
	if action == "CLOSE" {
		set = bson.D{{Key: "closedAt", Value: now}}
	}
	switch {
	case rec.Step == StepCall && (rec.Outcome == Dispute || rec.Outcome == HardshipFound):
		set = append(set, bson.E{Key: "hold", Value: rec.Outcome}, bson.E{Key: "heldUntil", Value: ""})
	case rec.Step == StepCall && rec.Outcome == Promised:
		set = append(set, bson.E{Key: "hold", Value: ""}, bson.E{Key: "heldUntil", Value: rec.PromisedDate})
	case rec.Step == StepCall:
		set = append(set, bson.E{Key: "hold", Value: ""}, bson.E{Key: "heldUntil", Value: ""})
	}
	entry := lifecycle.Entry{At: now, Action: action, From: string(x.Status), To: string(to), ActorID: c.ID, ActorKind: string(c.Kind), Note: rec.Note}
	// Closing is the job's bookkeeping, not a step towards the household:
	// it is on the timeline, not among the records.
	var push bson.D
	if action != "CLOSE" {
		push = bson.D{{Key: "$push", Value: bson.D{{Key: "records", Value: rec}}}}
	}
	var out Case
	if err := s.steps.ApplyWith(ctx, x.ID, x.Version, entry, set, push, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DecideLegal is a supervisor's decision on a requested lawyer's letter
// (律师函): approved, the letter may go; refused, the case goes back to the
// written notice and waits for the next request.
func (s *Service) DecideLegal(ctx context.Context, c *access.Caller, householdID string, approve bool, note string) (*Case, error) {
	h, err := s.household(ctx, householdID)
	if err != nil {
		return nil, err
	}
	if !fee.GrantsRelief(c, h.CommunityID) {
		if c.IsPerson() || !c.WorksIn(h.CommunityID) {
			return nil, household.ErrNotFound
		}
		return nil, apperr.ErrForbidden
	}
	note, err = validate.Text("note", note, true, 500)
	if err != nil {
		return nil, err
	}
	x, err := s.OpenCase(ctx, householdID)
	if err != nil {
		return nil, err
	}
	if x == nil {
		return nil, ErrNoCase
	}
	action := "LEGAL_REJECT"
	if approve {
		action = "LEGAL_APPROVE"
	}
	now := s.cfg.Now().UTC()
	rec := Record{Step: StepLegalLetter, Note: note, ByID: c.ID, At: now}
	if approve {
		rec.Outcome = Approved
	} else {
		rec.Outcome = RefusedBySupervisor
	}
	// A decision is not a step towards the household: it keeps the
	// interval's clock where the request set it.
	to, err := Machine.Next(action, x.Status)
	if err != nil {
		return nil, ErrOutOfTurn.WithArgs(string(next(x.Status)))
	}
	rec.ArrearsFen = x.ArrearsFen
	entry := lifecycle.Entry{At: now, Action: action, From: string(x.Status), To: string(to), ActorID: c.ID, ActorKind: string(c.Kind), Note: note}
	var out Case
	if err := s.steps.ApplyWith(ctx, x.ID, x.Version, entry, nil, bson.D{{Key: "$push", Value: bson.D{{Key: "records", Value: rec}}}}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func init() {
	apperr.Register(map[string]apperr.Text{
		"dunning.outcome_call_only": {ZH: "只有电话或上门催缴需要填写结果", EN: "Only a call or visit has an outcome"},
	})
}

// CallsOwedIn lists the community's open cases that owe a call or visit:
// after the second notice, and after an owner's promise (a follow-up), at
// most limit; the butler's list shows each from CallDueAt.
func (s *Service) CallsOwedIn(ctx context.Context, communityID string, limit int) ([]*Case, error) {
	q := bson.D{{Key: "communityId", Value: communityID}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "status", Value: Noticed}},
		bson.D{{Key: "status", Value: Called}, {Key: "heldUntil", Value: bson.D{{Key: "$gt", Value: ""}}}},
	}}}
	out, err := mongo.FindAll[Case](ctx, s.col, q, "fee calls owed", options.Find().SetLimit(int64(limit)).SetProjection(bson.D{{Key: "timeline", Value: 0}, {Key: "records", Value: 0}}))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CallDueAt is when a case's call is due: an interval after the second
// notice, or the morning after an owner's promised date.
func (s *Service) CallDueAt(x *Case) time.Time {
	if x.HeldUntil != "" {
		if d, err := time.ParseInLocation(time.DateOnly, x.HeldUntil, s.cfg.Zone(x.CommunityID)); err == nil {
			return d.AddDate(0, 0, 1).Add(9 * time.Hour).UTC()
		}
	}
	if x.LastStepAt != nil {
		return x.LastStepAt.Add(s.cfg.Interval)
	}
	return x.OpenedAt
}
