package graph

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"qinqing/graph/model"
	"qinqing/internal/access"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/page"
	"qinqing/internal/repair"
)

var repairStatuses = []repair.Status{repair.Submitted, repair.Taken, repair.Dispatched, repair.Accepted, repair.InProgress,
	repair.Completed, repair.Confirmed, repair.Closed, repair.Cancelled}

func uploads(us []*graphql.Upload) []files.Upload {
	out := make([]files.Upload, 0, len(us))
	for _, u := range us {
		if u != nil {
			out = append(out, files.Upload{Filename: u.Filename, Content: u.File})
		}
	}
	return out
}

func repairConnection(pg page.Page[*repair.Request]) *model.RepairRequestConnection {
	return &model.RepairRequestConnection{
		Edges: edges(pg, func(cur string, n *repair.Request) *model.RepairRequestEdge {
			return &model.RepairRequestEdge{Cursor: cur, Node: n}
		}),
		PageInfo:   pageInfo(pg),
		TotalCount: pg.Total,
	}
}

func (r *Resolver) deadlines(ctx context.Context, c *access.Caller, communityID string) ([]*model.RepairDeadlines, error) {
	m, err := r.Svc.Repairs.Deadlines(ctx, c, communityID)
	if err != nil {
		return nil, err
	}
	out := []*model.RepairDeadlines{}
	for _, u := range repair.Urgencies {
		d := m[u]
		out = append(out, &model.RepairDeadlines{Urgency: u, RespondMinutes: int(d.Respond / time.Minute), ArriveMinutes: int(d.Arrive / time.Minute), FinishMinutes: int(d.Finish / time.Minute)})
	}
	return out, nil
}

// repairEvents streams one request's steps. Access is checked again for each
// event with the connection's kept caller, exactly as the query checks it.
func (r *Resolver) repairEvents(ctx context.Context, id string) (<-chan *model.RepairEvent, error) {
	filter := func(e *events.Event) bool { return e.SubjectID == id && strings.HasPrefix(e.Type, "repair.") }
	return stream(ctx, r.Svc.Events, filter, func(e *events.Event) (*model.RepairEvent, bool) {
		fresh, err := liveCaller(ctx)
		if err != nil {
			return nil, false
		}
		req, err := eventPayload(&r.payloads, e, "repair:"+id, func() (*repair.Request, error) {
			return r.Svc.Repairs.Load(context.WithoutCancel(ctx), id)
		})
		if err != nil || r.Svc.Repairs.Visible(fresh, req) != nil {
			return nil, false
		}
		status, _ := e.Data["status"].(string)
		return &model.RepairEvent{RequestID: id, Type: enumOf(e.Type, model.RepairEventTypeOther), Status: repair.Status(status), At: e.At, Request: req}, true
	}), nil
}

// queueEvents streams changes to a community's queue to its staff.
func (r *Resolver) queueEvents(ctx context.Context, communityID string) (<-chan *model.QueueEvent, error) {
	filter := func(e *events.Event) bool {
		return e.CommunityID == communityID && strings.HasPrefix(e.Type, "repair.")
	}
	return stream(ctx, r.Svc.Events, filter, func(e *events.Event) (*model.QueueEvent, bool) {
		fresh, err := liveCaller(ctx)
		if err != nil || r.Svc.Repairs.MayWatchQueue(fresh, communityID) != nil {
			return nil, false
		}
		status, _ := e.Data["status"].(string)
		return &model.QueueEvent{CommunityID: communityID, RequestID: e.SubjectID, Type: enumOf(e.Type, model.RepairEventTypeOther), Status: repair.Status(status), At: e.At}, true
	}), nil
}

// errNotPublic: a PublicRepair is only ever made of a public-area request.
var errNotPublic = errors.New("public repair without a public area")

func publicAreaInput(in *model.PublicAreaInput) *repair.PublicAreaInput {
	if in == nil {
		return nil
	}
	return &repair.PublicAreaInput{CommunityID: in.CommunityID, BuildingID: deref(in.BuildingID), Floor: in.Floor, Kind: in.Kind, Place: in.Place}
}

// publicRepairEvents streams the steps of the public-area repairs of a
// followed place. The access decision pf was taken when the subscription
// started; each event re-checks it against the connection's kept caller
// (no database read), and the request is loaded once per event for all
// subscribers.
func (r *Resolver) publicRepairEvents(ctx context.Context, pf *repair.PublicFollowers) <-chan *model.PublicRepairEvent {
	filter := func(e *events.Event) bool {
		return e.CommunityID == pf.CommunityID && e.HouseholdID == "" && strings.HasPrefix(e.Type, "repair.")
	}
	return stream(ctx, r.Svc.Events, filter, func(e *events.Event) (*model.PublicRepairEvent, bool) {
		fresh, err := liveCaller(ctx)
		if err != nil || !pf.MayFollowLive(fresh) {
			return nil, false
		}
		req, err := eventPayload(&r.payloads, e, "repair:"+e.SubjectID, func() (*repair.Request, error) {
			return r.Svc.Repairs.Load(context.WithoutCancel(ctx), e.SubjectID)
		})
		if err != nil || !pf.Follows(req) {
			return nil, false
		}
		return &model.PublicRepairEvent{Repair: req, Type: enumOf(e.Type, model.RepairEventTypeOther), At: e.At}, true
	})
}
