package graph

import (
	"qinqing/graph/model"
	"qinqing/internal/enquiry"
	"qinqing/internal/platform/page"
)

func answerInput(in model.EnquiryAnswerInput) enquiry.AnswerInput {
	return enquiry.AnswerInput{Outcome: in.Outcome, Text: in.Text, ReferredTo: deref(in.ReferredTo), FaqEntryID: deref(in.FaqEntryID)}
}

func enquiryConnection(pg page.Page[*enquiry.Enquiry]) *model.EnquiryConnection {
	return &model.EnquiryConnection{
		Edges: edges(pg, func(cur string, n *enquiry.Enquiry) *model.EnquiryEdge {
			return &model.EnquiryEdge{Cursor: cur, Node: n}
		}),
		PageInfo: pageInfo(pg), TotalCount: pg.Total,
	}
}
