package review

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Session is a training session (培训) with who attended and who was
// required but absent.
type Session struct {
	ID              string    `bson:"_id"`
	CommunityID     string    `bson:"communityId"`
	Title           string    `bson:"title"`
	Topic           string    `bson:"topic,omitempty"`
	HeldAt          time.Time `bson:"heldAt"`
	DurationMinutes int       `bson:"durationMinutes"`
	Trainer         string    `bson:"trainer"`
	AttendeeIDs     []string  `bson:"attendeeIds"`
	AbsentIDs       []string  `bson:"absentIds"`
	RecordedBy      string    `bson:"recordedBy"`
	CreatedAt       time.Time `bson:"createdAt"`
	SortKey         string    `bson:"sortKey"` // newest held first
}

// MaxAttendees bounds a session's lists.
const MaxAttendees = 200

// TrainingInput is what a supervisor records after a session.
type TrainingInput struct {
	CommunityID     string
	Title, Topic    string
	HeldAt          time.Time
	DurationMinutes int
	Trainer         string
	AttendeeIDs     []string
	AbsentIDs       []string
}

// RecordTraining keeps a session held in the community: its supervisors
// and admins. Everyone listed must be active staff of the community.
func (s *Service) RecordTraining(ctx context.Context, c *access.Caller, in TrainingInput) (*Session, error) {
	if err := validate.ID("input.communityId", in.CommunityID); err != nil {
		return nil, err
	}
	if !Supervises(c, in.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	now := s.now()
	x := &Session{ID: mongo.NewID(), CommunityID: in.CommunityID, DurationMinutes: in.DurationMinutes, RecordedBy: c.ID, CreatedAt: now}
	var err error
	if x.Title, err = validate.Text("input.title", in.Title, true, 100); err != nil {
		return nil, err
	}
	if x.Topic, err = validate.Text("input.topic", in.Topic, false, 500); err != nil {
		return nil, err
	}
	if x.Trainer, err = validate.Text("input.trainer", in.Trainer, true, 50); err != nil {
		return nil, err
	}
	if in.HeldAt.IsZero() {
		return nil, apperr.Invalid("input.heldAt", "input.required")
	}
	if x.HeldAt = in.HeldAt.UTC(); x.HeldAt.After(now.Add(5 * time.Minute)) {
		return nil, apperr.Invalid("input.heldAt", "review.held_future")
	}
	if in.DurationMinutes < 1 || in.DurationMinutes > 600 {
		return nil, apperr.Invalid("input.durationMinutes", "input.out_of_range", 1, 600)
	}
	if x.AttendeeIDs, err = s.staffList(ctx, "input.attendeeIds", in.CommunityID, in.AttendeeIDs); err != nil {
		return nil, err
	}
	if len(x.AttendeeIDs) == 0 {
		return nil, apperr.Invalid("input.attendeeIds", "review.no_attendance")
	}
	if x.AbsentIDs, err = s.staffList(ctx, "input.absentIds", in.CommunityID, in.AbsentIDs); err != nil {
		return nil, err
	}
	for _, id := range x.AbsentIDs {
		if slices.Contains(x.AttendeeIDs, id) {
			return nil, apperr.Invalid("input.absentIds", "review.both_lists")
		}
	}
	x.SortKey = page.NewestFirst(x.HeldAt, x.ID)
	if _, err := s.sessions.InsertOne(ctx, x); err != nil {
		return nil, fmt.Errorf("insert training session: %w", err)
	}
	return x, nil
}

// staffList dedupes ids and checks, in one query, that each is active
// staff of the community.
func (s *Service) staffList(ctx context.Context, field, communityID string, ids []string) ([]string, error) {
	out := []string{}
	for _, id := range ids {
		if err := validate.ID(field, id); err != nil {
			return nil, err
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) > MaxAttendees {
		return nil, apperr.Invalid(field, "input.too_many", MaxAttendees)
	}
	if len(out) == 0 {
		return out, nil
	}
	found, err := s.cfg.Staff.ByIDs(ctx, out)
	if err != nil {
		return nil, err
	}
	for _, id := range out {
		if st := found[id]; st == nil || !st.Active || !slices.Contains(st.CommunityIDs, communityID) {
			return nil, apperr.Invalid(field, "review.not_staff")
		}
	}
	return out, nil
}

// MaxWindow bounds a trainingSessions window.
const MaxWindow = 366 * 24 * time.Hour

// Sessions pages the community's sessions held in [from, to), newest
// first: its supervisors and admins see all, other staff of the community
// the sessions they attended.
func (s *Service) Sessions(ctx context.Context, c *access.Caller, communityID string, from, to time.Time, p page.Request) (page.Page[*Session], error) {
	var none page.Page[*Session]
	if err := validate.ID("communityId", communityID); err != nil {
		return none, err
	}
	if !to.After(from) || to.Sub(from) > MaxWindow {
		return none, apperr.Invalid("to", "review.bad_window")
	}
	q := mongo.InWindow(communityID, "heldAt", from, to)
	switch {
	case Supervises(c, communityID):
	case c.IsStaff() && c.WorksIn(communityID):
		q = append(q, bson.E{Key: "attendeeIds", Value: c.ID})
	default:
		return none, apperr.ErrForbidden
	}
	return mongo.FindPage(ctx, s.sessions, q, p, mongo.PageQuery{}, func(x *Session) string { return x.SortKey })
}

// training: every session held in the month lists who was required
// (attending or absent); TRAINING counts them, met when attended.
func (s *Service) training(ctx context.Context, b *batch, communityID string) error {
	list, err := mongo.FindAll[Session](ctx, s.sessions, mongo.InWindow(communityID, "heldAt", b.from, b.to), "training sessions for review")
	if err != nil {
		return err
	}
	for _, x := range list {
		title := "培训 · " + x.Title
		for _, id := range x.AttendeeIDs {
			b.add(id, Training, &Item{Kind: KindTraining, ID: x.ID, Title: title, At: x.HeldAt, Met: true})
		}
		for _, id := range x.AbsentIDs {
			b.add(id, Training, &Item{Kind: KindTraining, ID: x.ID, Title: title, At: x.HeldAt})
		}
	}
	return nil
}

// SeenBy is who of a session's lists c may see: supervisors (and admins)
// everyone; an attendee only themself, none of the absent.
func (x *Session) SeenBy(c *access.Caller) (attendees, absent []string) {
	if Supervises(c, x.CommunityID) {
		return x.AttendeeIDs, x.AbsentIDs
	}
	if slices.Contains(x.AttendeeIDs, c.ID) {
		return []string{c.ID}, []string{}
	}
	return []string{}, []string{}
}

// ItemsPage is a page of a figure's items, keyed by their place in it.
func (f *Figure) ItemsPage(p page.Request) page.Page[*Item] {
	start := 0
	if p.After != "" {
		if n, err := strconv.Atoi(p.After); err == nil && n >= 0 {
			start = n // the cursor's own item: Trim takes it off
		}
	}
	if start > len(f.Items) {
		start = len(f.Items)
	}
	end := min(len(f.Items), start+int(p.Limit()))
	idx := make([]int, 0, end-start)
	for i := start; i < end; i++ {
		idx = append(idx, i)
	}
	pg := page.Trim(idx, p, func(i int) string { return fmt.Sprintf("%06d", i) })
	out := page.Page[*Item]{Keys: pg.Keys, HasNext: pg.HasNext, HasPrev: pg.HasPrev, Total: len(f.Items), Items: make([]*Item, len(pg.Items))}
	for i, n := range pg.Items {
		out.Items[i] = f.Items[n]
	}
	return out
}
