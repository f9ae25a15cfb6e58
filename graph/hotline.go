package graph

import (
	"qinqing/graph/model"
	"qinqing/internal/hotline"
	"qinqing/internal/platform/page"
)

func callConnection(pg page.Page[*hotline.Call]) *model.CallConnection {
	return &model.CallConnection{
		Edges: edges(pg, func(cur string, n *hotline.Call) *model.CallEdge {
			return &model.CallEdge{Cursor: cur, Node: n}
		}),
		PageInfo:   pageInfo(pg),
		TotalCount: pg.Total,
	}
}
