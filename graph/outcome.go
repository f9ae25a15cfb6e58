package graph

import (
	"context"

	"qinqing/graph/model"
	"qinqing/internal/notify"
	"qinqing/internal/outcome"
	"qinqing/internal/platform/page"
)

// The outcome lists' bounds (see listBounds): every complaint and enquiry
// category once, the store's caps on examples, improvements and versions,
// a few surveys a period with at most every dimension, and an action's
// few statuses.
func init() {
	for k, v := range map[string]int{
		"PublishedOutcomes.complaints":   7,
		"PublishedOutcomes.enquiries":    10,
		"PublishedOutcomes.examples":     outcome.MaxExamples,
		"PublishedOutcomes.improvements": outcome.MaxImprovements,
		"PublishedOutcomes.surveys":      3,
		"PublishedOutcomes.versions":     outcome.MaxVersions,
		"OutcomeSurvey.items":            9,
		"OutcomeAction.history":          4,
	} {
		listBounds[k] = v
	}
	notifyKinds = append(notifyKinds, notify.OutcomesPublished)
}

func outcomeInput(in model.PublishOutcomesInput) outcome.Input {
	out := outcome.Input{Remarks: in.Remarks, ChangeNote: in.ChangeNote}
	for _, e := range in.Examples {
		out.Examples = append(out.Examples, outcome.ExampleInput{Kind: e.Kind, Category: e.Category, Summary: e.Summary, Resolution: e.Resolution})
	}
	for _, a := range in.Improvements {
		out.Improvements = append(out.Improvements, outcome.ActionInput{Text: a.Text, Due: a.Due, Continues: a.Continues})
	}
	for _, a := range in.SurveyActions {
		out.SurveyActions = append(out.SurveyActions, outcome.SurveyActionInput{SurveyID: a.SurveyID, Dimension: a.Dimension,
			ActionInput: outcome.ActionInput{Text: a.Text, Due: a.Due, Continues: a.Continues}})
	}
	return out
}

func outcomesConnection(pg page.Page[*outcome.Outcomes]) *model.PublishedOutcomesConnection {
	return &model.PublishedOutcomesConnection{
		Edges: edges(pg, func(cur string, n *outcome.Outcomes) *model.PublishedOutcomesEdge {
			return &model.PublishedOutcomesEdge{Cursor: cur, Node: n}
		}),
		PageInfo:   pageInfo(pg),
		TotalCount: pg.Total,
	}
}

func outcomeCounts(ctx context.Context, kind outcome.ExampleKind, cs []outcome.Count) []*model.OutcomeCategoryCount {
	lang := LangFrom(ctx)
	out := make([]*model.OutcomeCategoryCount, len(cs))
	for i, c := range cs {
		out[i] = &model.OutcomeCategoryCount{Category: c.Category, Label: outcome.CategoryLabel(kind, c.Category, lang), Count: c.Count}
	}
	return out
}

// outcomeVersions are the period's versions: already loaded by the list,
// Get and Publish; otherwise asked of the service, which applies the read
// rule again.
func (r *publishedOutcomesResolver) outcomeVersions(ctx context.Context, obj *outcome.Outcomes) ([]*outcome.Outcomes, error) {
	if obj.Versions != nil {
		return obj.Versions, nil
	}
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	o, err := r.Svc.Outcomes.Get(ctx, c, obj.ID)
	if err != nil {
		return nil, err
	}
	return o.Versions, nil
}
