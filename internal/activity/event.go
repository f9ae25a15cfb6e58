package activity

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Limits of an event.
const (
	MaxTitle       = 40
	MaxDescription = 2000
	MaxPlace       = 100
	MaxBuildings   = 100
	MaxCapacity    = 1000
	MaxParty       = 10
	MaxReason      = 200
	MaxDuration    = 7 * 24 * time.Hour
	MaxAhead       = 366 * 24 * time.Hour
	// RemindTime is when, the evening before the start, confirmed
	// households are reminded (community time).
	RemindTime = "18:00"
)

// PosterPurpose marks event posters in the file store.
const PosterPurpose = "activity_poster"

// Input is a new event (all required fields set) or the changes to one
// (nil: unchanged).
type Input struct {
	CommunityID    string // create only
	Title          *string
	Description    *string
	Place          *string
	StartsAt       *time.Time
	EndsAt         *time.Time
	SignUpDeadline *time.Time
	BuildingIDs    *[]string // create: nil or empty is the whole community
	Capacity       *int
	MaxPartySize   *int
	Audience       []Tag // empty or containing ALL: everyone
	Poster         *files.Upload
}

// Create stores a draft event. Butlers and supervisors of the community (and
// admins); staff of another community get NOT_FOUND, residents FORBIDDEN.
func (s *Service) Create(ctx context.Context, c *access.Caller, in Input) (*Event, error) {
	if err := validate.ID("input.communityId", in.CommunityID); err != nil {
		return nil, err
	}
	if !c.IsStaff() {
		return nil, apperr.ErrForbidden
	}
	com, err := s.communities.Get(ctx, c, in.CommunityID)
	if err != nil {
		return nil, err
	}
	if !mayManage(c, com.ID) {
		return nil, apperr.ErrForbidden
	}
	for field, missing := range map[string]bool{"input.title": in.Title == nil, "input.place": in.Place == nil,
		"input.startsAt": in.StartsAt == nil, "input.endsAt": in.EndsAt == nil, "input.signUpDeadline": in.SignUpDeadline == nil,
		"input.capacity": in.Capacity == nil, "input.maxPartySize": in.MaxPartySize == nil} {
		if missing {
			return nil, apperr.Invalid(field, "input.required")
		}
	}
	if in.BuildingIDs == nil {
		in.BuildingIDs = &[]string{}
	}
	now := s.now().UTC()
	ev := &Event{ID: mongo.NewID(), CommunityID: com.ID, TimeZone: com.Location().String(), Status: Draft, CreatedBy: c.ID,
		Audience: []Tag{ForAll}, CreatedAt: now, UpdatedAt: now}
	if _, err := s.apply(ctx, ev, in, now, true); err != nil {
		return nil, err
	}
	if ev.PosterID, err = s.savePoster(ctx, c, ev, in.Poster); err != nil {
		return nil, err
	}
	ev.Timeline = []lifecycle.Entry{{At: now, Action: "create", To: string(Draft), ActorID: c.ID, ActorKind: string(c.Kind)}}
	if _, err := s.events.InsertOne(ctx, ev); err != nil {
		s.files.DeleteAll(ctx, nonEmpty(ev.PosterID))
		return nil, fmt.Errorf("insert event: %w", err)
	}
	s.publish(ctx, c, "created", ev.CommunityID, "", ev.ID, map[string]any{"version": ev.Version, "status": string(ev.Status), "summary": ev.Title})
	return ev, nil
}

// apply validates in onto ev and returns the names of the fields it
// changed. fresh: a new event, every field is checked as new.
func (s *Service) apply(ctx context.Context, ev *Event, in Input, now time.Time, fresh bool) ([]string, error) {
	var changed []string
	text := func(field string, v *string, required bool, max int, dst *string) error {
		if v == nil {
			return nil
		}
		t, err := validate.Text("input."+field, *v, required, max)
		if err == nil && (fresh || t != *dst) {
			*dst, changed = t, append(changed, field)
		}
		return err
	}
	if err := text("title", in.Title, true, MaxTitle, &ev.Title); err != nil {
		return nil, err
	}
	if err := text("description", in.Description, false, MaxDescription, &ev.Description); err != nil {
		return nil, err
	}
	if err := text("place", in.Place, true, MaxPlace, &ev.Place); err != nil {
		return nil, err
	}
	if in.Audience != nil {
		tags, err := checkTags(in.Audience)
		if err != nil {
			return nil, err
		}
		ev.Audience, changed = tags, append(changed, "audience")
	}
	if in.BuildingIDs != nil {
		ids, err := s.communities.CheckBuildings(ctx, "input.buildingIds", ev.CommunityID, *in.BuildingIDs, MaxBuildings)
		if err != nil {
			return nil, err
		}
		if fresh || !sameSet(ids, ev.BuildingIDs) {
			if ev.Published {
				// Households already told, or signed up, must stay covered.
				return nil, apperr.Invalid("input.buildingIds", "activity.scope_fixed")
			}
			ev.BuildingIDs, ev.AllBuildings, changed = ids, len(ids) == 0, append(changed, "buildingIds")
			ev.Targets = targetKeys(ev.CommunityID, ids)
		}
	}
	if in.Capacity != nil && (fresh || *in.Capacity != ev.Capacity) {
		if *in.Capacity < 1 || *in.Capacity > MaxCapacity {
			return nil, apperr.Invalid("input.capacity", "input.out_of_range", 1, MaxCapacity)
		}
		ev.Capacity, changed = *in.Capacity, append(changed, "capacity")
	}
	if in.MaxPartySize != nil && (fresh || *in.MaxPartySize != ev.MaxPartySize) {
		if *in.MaxPartySize < 1 || *in.MaxPartySize > MaxParty {
			return nil, apperr.Invalid("input.maxPartySize", "input.out_of_range", 1, MaxParty)
		}
		ev.MaxPartySize, changed = *in.MaxPartySize, append(changed, "maxPartySize")
	}
	if ev.MaxPartySize > ev.Capacity {
		return nil, apperr.Invalid("input.maxPartySize", "activity.party_over_capacity")
	}
	return s.applyTimes(ev, in, now, fresh, changed)
}

// applyTimes checks the start, end and deadline together: a new or moved
// time must lie ahead; the end follows the start within MaxDuration; the
// deadline is not after the start.
func (s *Service) applyTimes(ev *Event, in Input, now time.Time, fresh bool, changed []string) ([]string, error) {
	set := func(field string, v *time.Time, dst *time.Time) error {
		if v == nil || (!fresh && v.Equal(*dst)) {
			return nil
		}
		switch t := v.UTC(); {
		case !t.After(now):
			return apperr.Invalid("input."+field, "activity.past")
		case t.After(now.Add(MaxAhead)):
			return apperr.Invalid("input."+field, "activity.too_far", int(MaxAhead/(24*time.Hour)))
		default:
			*dst, changed = t, append(changed, field)
		}
		return nil
	}
	if err := set("startsAt", in.StartsAt, &ev.StartsAt); err != nil {
		return nil, err
	}
	if err := set("endsAt", in.EndsAt, &ev.EndsAt); err != nil {
		return nil, err
	}
	if err := set("signUpDeadline", in.SignUpDeadline, &ev.SignUpDeadline); err != nil {
		return nil, err
	}
	switch {
	case !ev.EndsAt.After(ev.StartsAt):
		return nil, apperr.Invalid("input.endsAt", "activity.ends_before_start")
	case ev.EndsAt.Sub(ev.StartsAt) > MaxDuration:
		return nil, apperr.Invalid("input.endsAt", "activity.too_long", int(MaxDuration/(24*time.Hour)))
	case ev.SignUpDeadline.After(ev.StartsAt):
		return nil, apperr.Invalid("input.signUpDeadline", "activity.deadline_after_start")
	}
	loc := ev.location()
	day := ev.StartsAt.In(loc).AddDate(0, 0, -1).Format(time.DateOnly)
	ev.RemindAt, _ = time.ParseInLocation(time.DateOnly+" 15:04", day+" "+RemindTime, loc)
	ev.RemindAt = ev.RemindAt.UTC()
	ev.SortKey = page.NewestFirst(ev.StartsAt, ev.ID)
	return changed, nil
}

func checkTags(in []Tag) ([]Tag, error) {
	out := []Tag{}
	for _, t := range in {
		if !slices.Contains(Tags, t) {
			return nil, apperr.Invalid("input.audience", "input.bad_value")
		}
		if t == ForAll {
			return []Tag{ForAll}, nil
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return []Tag{ForAll}, nil
	}
	return out, nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func (s *Service) savePoster(ctx context.Context, c *access.Caller, ev *Event, up *files.Upload) (string, error) {
	if up == nil {
		return ev.PosterID, nil
	}
	f, err := s.files.SaveImage(ctx, "input.poster", up.Filename, up.Content, files.Meta{
		Purpose: PosterPurpose, SubjectID: ev.ID, CommunityID: ev.CommunityID, UploadedBy: c.ID})
	if err != nil {
		return "", err
	}
	return f.ID, nil
}

func nonEmpty(ids ...string) []string {
	out := []string{}
	for _, id := range ids {
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}

// managed loads an event for a step by its managers: staff of another
// community get NOT_FOUND, others who may not manage it FORBIDDEN.
func (s *Service) managed(ctx context.Context, c *access.Caller, id string) (*Event, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	ev, err := mongo.FindByID[Event](ctx, s.events, id, ErrNotFound)
	if err != nil {
		return nil, err
	}
	if c.IsStaff() && !c.WorksIn(ev.CommunityID) {
		return nil, ErrNotFound
	}
	if c.IsPerson() {
		if ok, err := s.residentSees(ctx, c, ev); err != nil || !ok {
			return nil, cmpErr(err, ErrNotFound)
		}
	}
	if !mayManage(c, ev.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	return ev, nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// eventSet is every stored field an edit may change.
func eventSet(ev *Event) bson.D {
	return bson.D{
		{Key: "title", Value: ev.Title}, {Key: "description", Value: ev.Description}, {Key: "place", Value: ev.Place},
		{Key: "posterId", Value: ev.PosterID}, {Key: "startsAt", Value: ev.StartsAt}, {Key: "endsAt", Value: ev.EndsAt},
		{Key: "signUpDeadline", Value: ev.SignUpDeadline}, {Key: "buildingIds", Value: ev.BuildingIDs},
		{Key: "allBuildings", Value: ev.AllBuildings}, {Key: "targets", Value: ev.Targets}, {Key: "capacity", Value: ev.Capacity},
		{Key: "maxPartySize", Value: ev.MaxPartySize}, {Key: "audience", Value: ev.Audience}, {Key: "remindAt", Value: ev.RemindAt},
		{Key: "reminded", Value: ev.Reminded}, {Key: "sortKey", Value: ev.SortKey},
	}
}
