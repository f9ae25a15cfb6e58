package committee

import (
	"context"
	"errors"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// List is one page of a community's meetings, newest held first: every
// kind for its staff and sitting committee members, owners' forums only for
// its other residents; kind ("" for all) narrows it.
func (s *Meetings) List(ctx context.Context, c *access.Caller, communityID string, kind MeetingKind, p page.Request) (page.Page[*Meeting], error) {
	var none page.Page[*Meeting]
	v, err := s.viewerOf(ctx, c, communityID)
	if err != nil {
		return none, err
	}
	if kind != "" && !v.reads(kind) {
		return page.Page[*Meeting]{Items: []*Meeting{}, Keys: []string{}}, nil // Total 0
	}
	if kind == "" && !v.all {
		kind = OwnersForum
	}
	q := bson.D{{Key: "communityId", Value: communityID}}
	if kind != "" {
		q = append(q, bson.E{Key: "kind", Value: kind})
	}
	pg, err := mongo.FindPage(ctx, s.col, q, p, mongo.PageQuery{}, func(m *Meeting) string { return m.SortKey })
	if err != nil {
		return none, err
	}
	if err := s.fill(ctx, pg.Items...); err != nil {
		return none, err
	}
	return pg, nil
}

// Get is one meeting, for whoever may read it; NOT_FOUND otherwise.
func (s *Meetings) Get(ctx context.Context, c *access.Caller, id string) (*Meeting, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	m, err := s.byID(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.readable(ctx, c, m); err != nil {
		return nil, err
	}
	return m, nil
}

// readable is the caller's view of m's community when they may read m;
// ErrMeetingNotFound when they may not know it exists.
func (s *Meetings) readable(ctx context.Context, c *access.Caller, m *Meeting) (meetingViewer, error) {
	v, err := s.viewerOf(ctx, c, m.CommunityID)
	if e, ok := apperr.As(err); ok && e.Code == apperr.NotFound {
		return v, ErrMeetingNotFound
	}
	if err != nil {
		return v, err
	}
	if !v.reads(m.Kind) {
		return v, ErrMeetingNotFound
	}
	return v, nil
}

// OpenActionsIn returns the open action items of a community's meetings,
// earliest due first, at most limit: what the task lists owe.
func (s *Meetings) OpenActionsIn(ctx context.Context, communityID string, limit int) ([]Action, error) {
	ms, err := mongo.FindAll[Meeting](ctx, s.col,
		bson.D{{Key: "communityId", Value: communityID}, {Key: "openActions", Value: bson.D{{Key: "$gt", Value: 0}}}},
		"open committee actions",
		options.Find().SetProjection(bson.D{{Key: "minutes", Value: 0}, {Key: "attendees", Value: 0}, {Key: "agenda", Value: 0}}).
			SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	if err := s.fill(ctx, ms...); err != nil {
		return nil, err
	}
	var out []Action
	for _, m := range ms {
		for _, a := range m.Actions {
			if a.Status == ActionOpen {
				out = append(out, a)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].DueAt.Equal(out[j].DueAt) {
			return out[i].DueAt.Before(out[j].DueAt)
		}
		return out[i].ID < out[j].ID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// errNotFound tells a lost document from a store failure.
func meetingMissing(err error) bool { return errors.Is(err, ErrMeetingNotFound) }
