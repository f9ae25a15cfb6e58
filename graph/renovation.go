package graph

import (
	"qinqing/graph/model"
	"qinqing/internal/moving"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/page"
	"qinqing/internal/renovation"
)

// renovationApplication turns the API's application into the domain's.
func renovationApplication(in model.RenovationApplicationInput) renovation.Application {
	out := renovation.Application{StartDate: in.StartDate, EndDate: in.EndDate, Scope: in.Scope, ScopeTags: in.ScopeTags}
	if c := in.Company; c != nil {
		out.Company = renovation.Company{Name: c.Name, Contact: deref(c.Contact), Phone: c.Phone, LicenseNo: deref(c.LicenseNo)}
	}
	for _, w := range in.Workers {
		if w != nil {
			out.Workers = append(out.Workers, renovation.Worker{Name: w.Name, Phone: deref(w.Phone), IDCardNo: deref(w.IDCardNo)})
		}
	}
	if d := in.Documents; d != nil {
		out.Documents = renovation.DocumentsInput{Agreement: renovationDocumentInput(d.Agreement), FireSafetyPledge: renovationDocumentInput(d.FireSafetyPledge),
			WaterproofingTest: renovationDocumentInput(d.WaterproofingTest)}
	}
	return out
}

func renovationDocumentInput(d *model.RenovationDocumentInput) renovation.DocumentInput {
	if d == nil {
		return renovation.DocumentInput{}
	}
	out := renovation.DocumentInput{Provided: d.Provided}
	if d.Photo != nil {
		out.Photo = &files.Upload{Filename: d.Photo.Filename, Content: d.Photo.File}
	}
	return out
}

func renovationConnection(pg page.Page[*renovation.Renovation]) *model.RenovationConnection {
	return &model.RenovationConnection{
		Edges: edges(pg, func(cur string, n *renovation.Renovation) *model.RenovationEdge {
			return &model.RenovationEdge{Cursor: cur, Node: n}
		}),
		PageInfo: pageInfo(pg), TotalCount: pg.Total,
	}
}

func moveConnection(pg page.Page[*moving.Booking]) *model.MoveBookingConnection {
	return &model.MoveBookingConnection{
		Edges: edges(pg, func(cur string, n *moving.Booking) *model.MoveBookingEdge {
			return &model.MoveBookingEdge{Cursor: cur, Node: n}
		}),
		PageInfo: pageInfo(pg), TotalCount: pg.Total,
	}
}

// stepTimeline exposes a stored timeline (nil on list pages, which omit it).
func stepTimeline(es []lifecycle.Entry) []*lifecycle.Entry {
	out := make([]*lifecycle.Entry, len(es))
	for i := range es {
		out[i] = &es[i]
	}
	return out
}
