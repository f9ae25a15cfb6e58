package graph

import (
	"bytes"
	"context"
	"net/http"
	"strings"

	"qinqing/graph/model"
	"qinqing/internal/finance"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/page"
)

func financeInput(in model.PublishFinanceStatementInput) finance.Input {
	out := finance.Input{ChangeNote: in.ChangeNote, Remarks: in.Remarks}
	if f := in.MaintenanceFund; f != nil {
		out.Fund = &finance.FundInput{Opening: f.Opening, Deposits: f.Deposits, Interest: f.Interest, Spent: f.Spent, Note: f.Note}
	}
	for _, l := range in.Lines {
		out.Lines = append(out.Lines, finance.LineInput{Category: l.Category, Amount: l.Amount, Note: l.Note})
	}
	return out
}

func financeConnection(pg page.Page[*finance.Statement]) *model.FinanceStatementConnection {
	return &model.FinanceStatementConnection{
		Edges: edges(pg, func(cur string, n *finance.Statement) *model.FinanceStatementEdge {
			return &model.FinanceStatementEdge{Cursor: cur, Node: n}
		}),
		PageInfo:   pageInfo(pg),
		TotalCount: pg.Total,
	}
}

func financeLabel(ctx context.Context, c finance.Category) string {
	if LangFrom(ctx) == apperr.EN {
		return finance.Labels[c][1]
	}
	return finance.Labels[c][0]
}

func financeReportPath(id, ext string) string { return "/reports/finance/" + id + "." + ext }

// financeVersions are the period's versions: already loaded by the list,
// Get and Publish; otherwise (never on those paths) asked of the service,
// which applies the read rule again.
func (r *financeStatementResolver) financeVersions(ctx context.Context, obj *finance.Statement) ([]*finance.Statement, error) {
	if obj.Versions != nil {
		return obj.Versions, nil
	}
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	st, err := r.Svc.Finance.Get(ctx, c, obj.ID)
	if err != nil {
		return nil, err
	}
	return st.Versions, nil
}

// FinanceReportHandler serves GET /reports/finance/{id}.csv and .xlsx. It
// asks the same service call as the financeStatement query with the
// bearer's token, so exactly the residents and staff of the community get
// the files; everyone else gets 404, as for a statement that does not exist.
func FinanceReportHandler(svc *Services, tokens *auth.Tokens) http.Handler {
	r := &Resolver{Svc: svc}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		lang := apperr.ParseAcceptLanguage(req.Header.Get("Accept-Language"))
		file := req.PathValue("file")
		id, format := strings.TrimSuffix(file, ".csv"), "csv"
		if strings.HasSuffix(file, ".xlsx") {
			id, format = strings.TrimSuffix(file, ".xlsx"), "xlsx"
		} else if !strings.HasSuffix(file, ".csv") {
			http.NotFound(w, req)
			return
		}
		ctx, c, ok := bearerCaller(w, req, r, tokens, lang)
		if !ok {
			return
		}
		st, err := svc.Finance.Get(ctx, c, id)
		if err != nil {
			if ae, ok := apperr.As(err); ok && ae.Code != apperr.Internal && ae.Code != apperr.Unavailable {
				http.NotFound(w, req)
				return
			}
			http.Error(w, apperr.Message(apperr.ErrInternal, lang), http.StatusInternalServerError)
			return
		}
		name, err := svc.Finance.CommunityName(ctx, st.CommunityID)
		if err != nil {
			http.Error(w, apperr.Message(apperr.ErrInternal, lang), http.StatusInternalServerError)
			return
		}
		var body bytes.Buffer
		loc := svc.Finance.Zone(st.CommunityID)
		// The id's colons are no friends of file systems.
		filename := "finance-" + strings.ReplaceAll(st.ID, ":", "-") + "." + format
		if format == "csv" {
			err = finance.WriteCSV(&body, st, name, loc, lang)
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		} else {
			err = finance.WriteXLSX(&body, st, name, loc, lang)
			w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		}
		if err != nil {
			http.Error(w, apperr.Message(apperr.ErrInternal, lang), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
		w.Header().Set("Cache-Control", "private, no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(body.Bytes())
	})
}
