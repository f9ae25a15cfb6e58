package graph

import (
	"github.com/99designs/gqlgen/graphql"

	"qinqing/graph/model"
	"qinqing/internal/activity"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/page"
)

func createEventInput(in model.CreateEventInput) activity.Input {
	ids := in.BuildingIds
	return activity.Input{
		CommunityID: in.CommunityID, Title: &in.Title, Description: in.Description, Place: &in.Place,
		StartsAt: &in.StartsAt, EndsAt: &in.EndsAt, SignUpDeadline: &in.SignUpDeadline, BuildingIDs: &ids,
		Capacity: &in.Capacity, MaxPartySize: &in.MaxPartySize, Audience: in.Audience, Poster: upload(in.Poster),
	}
}

func updateEventInput(in model.UpdateEventInput) activity.Input {
	out := activity.Input{
		Title: in.Title, Description: in.Description, Place: in.Place, StartsAt: in.StartsAt, EndsAt: in.EndsAt,
		SignUpDeadline: in.SignUpDeadline, Capacity: in.Capacity, MaxPartySize: in.MaxPartySize, Audience: in.Audience,
		Poster: upload(in.Poster),
	}
	if in.BuildingIds != nil {
		ids := in.BuildingIds
		out.BuildingIDs = &ids
	}
	return out
}

func upload(u *graphql.Upload) *files.Upload {
	if u == nil {
		return nil
	}
	return &files.Upload{Filename: u.Filename, Content: u.File}
}

func eventConnection(pg page.Page[*activity.Event]) *model.CommunityEventConnection {
	return &model.CommunityEventConnection{
		Edges: edges(pg, func(cur string, n *activity.Event) *model.CommunityEventEdge {
			return &model.CommunityEventEdge{Cursor: cur, Node: n}
		}),
		PageInfo: pageInfo(pg), TotalCount: pg.Total,
	}
}

func signUpConnection(pg page.Page[*activity.SignUp]) *model.EventSignUpConnection {
	return &model.EventSignUpConnection{
		Edges: edges(pg, func(cur string, n *activity.SignUp) *model.EventSignUpEdge {
			return &model.EventSignUpEdge{Cursor: cur, Node: n}
		}),
		PageInfo: pageInfo(pg),
	}
}

// eventTimeline points at a stored timeline's entries.
func eventTimeline(es []lifecycle.Entry) []*lifecycle.Entry {
	out := make([]*lifecycle.Entry, len(es))
	for i := range es {
		out[i] = &es[i]
	}
	return out
}
