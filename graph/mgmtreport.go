package graph

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"qinqing/graph/model"
	"qinqing/internal/mgmtreport"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/pdf"
)

// The report's lists are short: twelve sections of a handful of figures,
// a few versions of a period, a draft's comments.
func init() {
	for k, v := range map[string]int{
		"ManagementReport.sections":           12,
		"ManagementReport.versions":           5,
		"ManagementReport.comments":           20,
		"ManagementReportSectionData.figures": 10,
		"ManagementReportSectionData.items":   5,
	} {
		listBounds[k] = v
	}
}

func reportConnection(pg page.Page[*mgmtreport.Report]) *model.ManagementReportConnection {
	return &model.ManagementReportConnection{
		Edges: edges(pg, func(cur string, n *mgmtreport.Report) *model.ManagementReportEdge {
			return &model.ManagementReportEdge{Cursor: cur, Node: n}
		}),
		PageInfo:   pageInfo(pg),
		TotalCount: pg.Total,
	}
}

// pickLang is the text of a (zh, en) pair in the caller's language.
func pickLang(ctx context.Context, t [2]string) string {
	if LangFrom(ctx) == apperr.EN && t[1] != "" {
		return t[1]
	}
	return t[0]
}

// ReportPDFPath is where a report version's PDF is served.
func ReportPDFPath(id string) string { return "/documents/management-reports/" + id + ".pdf" }

// reportVersions are the period's versions as the service loaded them for
// the caller (List, Get, Generate and Publish all do); otherwise asked again.
func (r *managementReportResolver) reportVersions(ctx context.Context, obj *mgmtreport.Report) ([]*mgmtreport.Report, error) {
	if obj.Versions != nil {
		return obj.Versions, nil
	}
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	rep, err := r.Svc.MgmtReports.Get(ctx, c, obj.ID)
	if err != nil {
		return nil, err
	}
	return rep.Versions, nil
}

// ManagementReportHandler serves GET /documents/management-reports/{id}.pdf
// with the bearer's token: the same read rule as the managementReport
// query (a draft for the committee and staff), everyone else 404. Without
// a font: 503 with DOCUMENT_FONT_MISSING.
func ManagementReportHandler(svc *Services, tokens *auth.Tokens) http.Handler {
	r := &Resolver{Svc: svc}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		lang := apperr.ParseAcceptLanguage(req.Header.Get("Accept-Language"))
		id, ok := strings.CutSuffix(req.PathValue("file"), ".pdf")
		if !ok || id == "" {
			http.NotFound(w, req)
			return
		}
		ctx, c, ok := bearerCaller(w, req, r, tokens, lang)
		if !ok {
			return
		}
		rep, body, err := svc.MgmtReports.PDF(ctx, c, id)
		switch {
		case errors.Is(err, pdf.ErrNoFont):
			writeCoded(w, http.StatusServiceUnavailable, CodeFontMissing, apperr.Message(apperr.New(apperr.Unavailable, "document.font_missing"), lang))
			return
		case err != nil:
			if ae, ok := apperr.As(err); ok && ae.Code != apperr.Internal && ae.Code != apperr.Unavailable {
				http.NotFound(w, req)
				return
			}
			writeCoded(w, http.StatusInternalServerError, string(apperr.Internal), apperr.Message(apperr.ErrInternal, lang))
			return
		}
		// The id's colons are no friends of file systems.
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `inline; filename="management-report-`+strings.ReplaceAll(rep.ID, ":", "-")+`.pdf"`)
		w.Header().Set("Cache-Control", "private, no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(body)
	})
}
