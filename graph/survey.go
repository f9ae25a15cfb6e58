package graph

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"

	"qinqing/graph/model"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/page"
	"qinqing/internal/survey"
)

func surveyInput(in model.CreateSurveyInput) survey.CreateInput {
	out := survey.CreateInput{
		CommunityID: in.CommunityID, Title: in.Title, Intro: deref(in.Intro), BuildingIDs: in.BuildingIds,
		OpensAt: in.OpensAt, ClosesAt: in.ClosesAt, ResponsePer: in.ResponsePer, Anonymous: in.Anonymous,
	}
	for _, q := range in.Questions {
		x := survey.QuestionInput{Type: q.Type, Text: deref(q.Text), Options: q.Options, Required: q.Required}
		if q.Dimension != nil {
			x.Dimension = *q.Dimension
		}
		out.Questions = append(out.Questions, x)
	}
	return out
}

func surveyAnswers(in []*model.SurveyAnswerInput) []survey.Answer {
	out := make([]survey.Answer, len(in))
	for i, a := range in {
		out[i] = survey.Answer{QuestionID: a.QuestionID, Choices: a.Choices, Rating: a.Rating, Text: a.Text,
			Importance: a.Importance, Satisfaction: a.Satisfaction}
	}
	return out
}

// mySurveyResponse is the caller's response through the per-request
// loader: a resident's list with myResponse costs one batch, not one
// lookup per survey.
func mySurveyResponse(ctx context.Context, key survey.ResponseKey) (*survey.Response, error) {
	v, err := loaders(ctx).MySurveyResponse.Load(ctx, key)
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	return v, err
}

func surveyConnection(pg page.Page[*survey.Survey]) *model.SurveyConnection {
	return &model.SurveyConnection{
		Edges:      edges(pg, func(cur string, n *survey.Survey) *model.SurveyEdge { return &model.SurveyEdge{Cursor: cur, Node: n} }),
		PageInfo:   pageInfo(pg),
		TotalCount: pg.Total,
	}
}

// SurveyReportHandler serves GET /reports/surveys/{id}/results.csv and
// /quadrant.svg. It asks the same service call as the surveyResults query
// with the bearer's token, so exactly those who may read the results get
// the files; everyone else gets 404, as for a survey that does not exist
// (a resident's FORBIDDEN included: the file is not theirs to know of).
func SurveyReportHandler(svc *Services, tokens *auth.Tokens, format string) http.Handler {
	r := &Resolver{Svc: svc}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		lang := apperr.ParseAcceptLanguage(req.Header.Get("Accept-Language"))
		tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		if !ok {
			writeUnauthenticated(w, lang)
			return
		}
		ctx, err := authenticate(req.Context(), r, tokens, strings.TrimSpace(tok))
		if err != nil {
			writeUnauthenticated(w, lang)
			return
		}
		c, err := caller(ctx)
		if err != nil {
			writeUnauthenticated(w, lang)
			return
		}
		res, err := svc.Surveys.Results(ctx, c, req.PathValue("id"))
		if err != nil {
			var ae *apperr.Error
			if errors.As(err, &ae) && ae.Code != apperr.Internal && ae.Code != apperr.Unavailable {
				http.NotFound(w, req)
				return
			}
			http.Error(w, apperr.Message(apperr.ErrInternal, lang), http.StatusInternalServerError)
			return
		}
		var body bytes.Buffer
		switch format {
		case "csv":
			labels := map[string]string{}
			if ids := res.HouseholdIDs(); len(ids) > 0 {
				hs, err := svc.Households.ByIDs(ctx, ids)
				if err != nil {
					http.Error(w, apperr.Message(apperr.ErrInternal, lang), http.StatusInternalServerError)
					return
				}
				for id, h := range hs {
					labels[id] = h.Label
				}
			}
			err = survey.WriteCSV(&body, res, lang, labels)
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="survey-`+res.Survey.ID+`-results.csv"`)
		default:
			err = survey.WriteSVG(&body, res, lang)
			w.Header().Set("Content-Type", "image/svg+xml; charset=utf-8")
			// The chart is data, never a document that runs anything.
			w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		}
		if err != nil {
			http.Error(w, apperr.Message(apperr.ErrInternal, lang), http.StatusInternalServerError)
			return
		}
		// Results change with every answer; private to the signed-in user.
		w.Header().Set("Cache-Control", "private, no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(body.Bytes())
	})
}
