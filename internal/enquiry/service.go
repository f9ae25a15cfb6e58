package enquiry

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"

	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
	"qinqing/internal/staff"
)

// Households is what enquiries need from the register.
type Households interface {
	Get(ctx context.Context, c *access.Caller, id string) (*household.Household, error)
	HouseholdsOfPerson(ctx context.Context, personID string) ([]*household.Household, error)
}

// StaffDirectory finds staff: hand-over targets and supervisors to tell.
type StaffDirectory interface {
	Get(ctx context.Context, id string) (*staff.Staff, error)
	ByIDs(ctx context.Context, ids []string) (map[string]*staff.Staff, error)
	WithRole(ctx context.Context, communityID string, role access.Role) ([]*staff.Staff, error)
}

// Sender is the notification engine.
type Sender interface {
	Send(ctx context.Context, m notify.Message) (int, error)
}

// Publisher puts events on the spine.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) error
}

// Config wires the service.
type Config struct {
	DB         *mongo.DB
	Households Households
	Staff      StaffDirectory
	Sender     Sender
	Bus        Publisher
	// Zone is a community's time zone, for the promised times notices
	// quote; nil: UTC+8.
	Zone func(communityID string) *time.Location
	Log  *slog.Logger
	Now  func() time.Time
}

// Service keeps enquiries and FAQ entries.
type Service struct {
	cfg   Config
	col   *mgo.Collection
	faq   *mgo.Collection
	steps *lifecycle.Store
}

// NewService makes the service.
func NewService(cfg Config) *Service {
	return &Service{cfg: cfg, col: cfg.DB.Collection("enquiries"), faq: cfg.DB.Collection("faq_entries"),
		steps: lifecycle.NewStore(cfg.DB, "enquiries", cfg.Now)}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// deskRoles take, answer and hand over enquiries.
var deskRoles = []access.Role{access.CustomerService, access.Butler, access.Supervisor}

// handles: front-desk staff, butlers and supervisors of the community, and
// admins.
func handles(c *access.Caller, communityID string) bool {
	return c.IsAdmin() || c.StaffIn(communityID, deskRoles...)
}

// canSee: the person who asked (the household's members when nobody is
// named), and the community's front-desk staff.
func canSee(c *access.Caller, x *Enquiry) bool {
	if c.IsPerson() {
		if x.AskerID != "" {
			return c.ID == x.AskerID
		}
		_, ok := c.RoleIn(x.HouseholdID)
		return ok && x.HouseholdID != ""
	}
	return handles(c, x.CommunityID)
}

// Get returns an enquiry the caller may see; others are NOT_FOUND.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Enquiry, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	x, err := mongo.FindByID[Enquiry](ctx, s.col, id, ErrNotFound)
	if err != nil {
		return nil, err
	}
	if !canSee(c, x) {
		return nil, ErrNotFound
	}
	if c.IsPerson() {
		x.StaffNotes = nil // never handed to the resident's side, checked or not
	}
	return x, nil
}

// Overdue reports whether x is open past its promised time, by the
// service's clock.
func (s *Service) Overdue(x *Enquiry) bool { return x.Overdue(s.cfg.Now()) }

// RecordInput is a question as staff take it, or as a resident asks it in
// the app.
type RecordInput struct {
	CommunityID string // staff: required unless a household names it
	HouseholdID string
	AskerID     string // a member of the household; a resident is always the asker
	AskerName   string // who asked, when they are not a registered person
	Channel     Channel
	Question    string
	Category    Category
	PromisedBy  *time.Time
	// StaffNotes: what staff note about the resident (内部备注), kept apart
	// from the question; staff only.
	StaffNotes string
	// An answer given on the spot closes the enquiry at once.
	Answer *AnswerInput
}

// AnswerInput is how an enquiry ends.
type AnswerInput struct {
	Outcome    Outcome
	Text       string // the answer, the reason, or the explanation
	ReferredTo string // required for REFERRED: named owner or department
	FaqEntryID string // the FAQ entry the answer came from, if any
}

// Record takes a question: staff of the community (front desk, butler,
// supervisor) for anyone, owning it from then on (首问责任制); a resident
// for themselves through the app, unowned until staff take it.
func (s *Service) Record(ctx context.Context, c *access.Caller, in RecordInput) (*Enquiry, error) {
	x := &Enquiry{Channel: in.Channel, Callbacks: []Callback{}}
	var err error
	if x.Question, err = validate.Text("input.question", in.Question, true, 500); err != nil {
		return nil, err
	}
	if !slices.Contains(Categories, in.Category) {
		return nil, apperr.Invalid("input.category", "input.bad_value")
	}
	x.Category = in.Category
	if err := s.scope(ctx, c, in, x); err != nil {
		return nil, err
	}
	if x.AskerName, err = validate.Text("input.askerName", in.AskerName, false, 40); err != nil {
		return nil, err
	}
	note, err := checkNote(c, "input.staffNotes", in.StaffNotes)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if note != "" {
		x.StaffNotes = []StaffNote{{StaffID: c.ID, Text: note, At: now}}
	}
	x.ID, x.CreatedAt, x.UpdatedAt, x.RecordedBy = mongo.NewID(), now, now, c.ID
	x.Normalised = Normalise(x.Question)
	x.SortKey = page.NewestFirst(now, x.ID)
	x.PromisedBy = now.Add(DefaultPromise)
	if in.PromisedBy != nil {
		if in.PromisedBy.Before(now) {
			return nil, apperr.Invalid("input.promisedBy", "enquiry.promised_past")
		}
		x.PromisedBy = in.PromisedBy.UTC()
	}
	x.Status = Open
	x.NextDeadline = &x.PromisedBy
	x.Timeline = []lifecycle.Entry{{At: now, Action: "submit", To: string(Open), ActorID: c.ID, ActorKind: string(c.Kind),
		Data: map[string]any{"channel": string(x.Channel)}}}
	if in.Answer != nil {
		if !c.IsStaff() {
			return nil, apperr.ErrForbidden
		}
		set, err := s.answerFields(ctx, c, x, *in.Answer)
		if err != nil {
			return nil, err
		}
		x.Status, x.NextDeadline, x.OnTheSpot = Closed, nil, true
		x.Outcome, x.Answer, x.ReferredTo, x.FaqEntryID = set.Outcome, set.Text, set.ReferredTo, set.FaqEntryID
		x.AnsweredBy, x.AnsweredAt = c.ID, &now
		x.Timeline = append(x.Timeline, lifecycle.Entry{At: now, Action: "reply", From: string(Open), To: string(Closed),
			ActorID: c.ID, ActorKind: string(c.Kind), Note: set.Text, Data: map[string]any{"outcome": string(set.Outcome), "onTheSpot": true}})
	}
	if _, err := s.col.InsertOne(ctx, x); err != nil {
		return nil, fmt.Errorf("insert enquiry: %w", err)
	}
	s.publish(ctx, c, x, "submit")
	return x, nil
}

// scope decides where the enquiry lives and who owns it.
func (s *Service) scope(ctx context.Context, c *access.Caller, in RecordInput, x *Enquiry) error {
	if c.IsPerson() {
		// A resident asks for themselves, in the app, for their own household.
		if err := validate.ID("input.householdId", in.HouseholdID); err != nil {
			return err
		}
		if _, ok := c.RoleIn(in.HouseholdID); !ok {
			return household.ErrNotFound
		}
		h, err := s.cfg.Households.Get(ctx, c, in.HouseholdID)
		if err != nil {
			return err
		}
		x.CommunityID, x.HouseholdID, x.BuildingID, x.AskerID, x.Channel = h.CommunityID, h.ID, h.BuildingID, c.ID, App
		return nil
	}
	if !c.IsStaff() {
		return apperr.ErrForbidden
	}
	if !slices.Contains(Channels, in.Channel) {
		return apperr.Invalid("input.channel", "input.bad_value")
	}
	if in.HouseholdID != "" {
		if err := validate.ID("input.householdId", in.HouseholdID); err != nil {
			return err
		}
		h, err := s.cfg.Households.Get(ctx, c, in.HouseholdID)
		if err != nil {
			return err
		}
		if in.CommunityID != "" && in.CommunityID != h.CommunityID {
			return apperr.Invalid("input.householdId", "input.bad_value")
		}
		x.CommunityID, x.HouseholdID, x.BuildingID = h.CommunityID, h.ID, h.BuildingID
	} else {
		if err := validate.ID("input.communityId", in.CommunityID); err != nil {
			return err
		}
		x.CommunityID = in.CommunityID
	}
	if !handles(c, x.CommunityID) {
		return apperr.ErrForbidden
	}
	if in.AskerID != "" {
		if err := s.checkAsker(ctx, in.AskerID, x.HouseholdID); err != nil {
			return err
		}
		x.AskerID = in.AskerID
	}
	x.OwnerStaffID = c.ID
	return nil
}

// checkAsker wants the named person to be a member of the household.
func (s *Service) checkAsker(ctx context.Context, personID, householdID string) error {
	if err := validate.ID("input.askerId", personID); err != nil {
		return err
	}
	if householdID == "" {
		return apperr.Invalid("input.householdId", "input.required")
	}
	hs, err := s.cfg.Households.HouseholdsOfPerson(ctx, personID)
	if err != nil {
		return err
	}
	for _, h := range hs {
		if h.ID == householdID {
			return nil
		}
	}
	return apperr.Invalid("input.askerId", "enquiry.not_asker")
}

// answerFields validates an answer.
func (s *Service) answerFields(ctx context.Context, c *access.Caller, x *Enquiry, in AnswerInput) (AnswerInput, error) {
	if !slices.Contains(Outcomes, in.Outcome) {
		return in, apperr.Invalid("outcome", "input.bad_value")
	}
	var err error
	if in.Text, err = validate.Text("text", in.Text, true, 1000); err != nil {
		return in, err
	}
	if in.ReferredTo, err = validate.Text("referredTo", in.ReferredTo, false, 60); err != nil {
		return in, err
	}
	if in.Outcome == Referred && in.ReferredTo == "" {
		return in, apperr.Invalid("referredTo", "enquiry.referred_to")
	}
	if in.Outcome != Referred {
		in.ReferredTo = ""
	}
	if in.FaqEntryID != "" {
		f, err := s.faqByID(ctx, in.FaqEntryID)
		if err != nil {
			return in, err
		}
		if f.CommunityID != x.CommunityID {
			return in, apperr.Invalid("faqEntryId", "enquiry.faq_other_estate")
		}
	}
	return in, nil
}

// publish tells listeners what happened: community-scoped (the staff
// screens), with the household in the data for the resident's app.
func (s *Service) publish(ctx context.Context, c *access.Caller, x *Enquiry, action string) {
	if s.cfg.Bus == nil {
		return
	}
	// version, summary and reporterId make the event a notification
	// source's (notify.EnquirySource tells the asker of a later answer).
	e := events.Event{Type: "enquiry." + action, CommunityID: x.CommunityID, SubjectID: x.ID, ActorID: c.ID, Data: map[string]any{
		"status": string(x.Status), "ownerStaffId": x.OwnerStaffID, "category": string(x.Category), "outcome": string(x.Outcome),
		"version": x.Version, "summary": notify.Summary(x.Question), "reporterId": x.AskerID,
	}}
	if err := s.cfg.Bus.Publish(context.WithoutCancel(ctx), e); err != nil && s.cfg.Log != nil {
		s.cfg.Log.WarnContext(ctx, "publish enquiry event", "enquiry", x.ID, "action", action, "err", err)
	}
}

// Normalise folds a question for counting repeats: letters, digits and Han
// characters only, lower-cased, at most 60 of them, so "停车证怎么办理？" and
// "停车证 怎么办理" count as one question.
func Normalise(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.ToLower(q) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			if n++; n == 60 {
				break
			}
		}
	}
	return b.String()
}
