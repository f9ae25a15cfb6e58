package app

import (
	"context"
	"time"

	"qinqing/graph"
	"qinqing/internal/community"
	"qinqing/internal/finance"
	"qinqing/internal/household"
	"qinqing/internal/mgmtreport"
	"qinqing/internal/outcome"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/pdf"
)

// newReports wires the management report to the services whose record it
// reads, to the owners' committee (who reads drafts), to the published
// outcomes (what is being done about each survey's improve-first items)
// and to the statement's maintenance fund.
func newReports(svc *graph.Services, communities *community.Service, households *household.Service, sender mgmtreport.Sender, zone func(string) *time.Location, font *pdf.Font, company string, d Deps, now func() time.Time) *mgmtreport.Service {
	return mgmtreport.NewService(mgmtreport.Config{DB: d.DB, Places: communities, KPIs: svc.KPIs, Equipment: svc.Facilities,
		Inspections: svc.Inspections, Parking: svc.Fees, Events: svc.Activity, Surveys: svc.Surveys, Finance: svc.Finance,
		Actions: surveyActions{svc.Outcomes}, FundOf: fundOf,
		Committee: svc.Committee, Residents: households, Sender: sender, Zone: zone, Font: font, Company: company, Log: d.Log, Now: now})
}

// surveyActions gives the report the promised actions in words: the
// report is for owners, in the language of its PDF.
type surveyActions struct{ outcomes *outcome.Service }

func (a surveyActions) SurveyActions(ctx context.Context, communityID, period string) ([]mgmtreport.Action, error) {
	as, err := a.outcomes.SurveyActions(ctx, communityID, period)
	if err != nil {
		return nil, err
	}
	out := make([]mgmtreport.Action, len(as))
	for i, x := range as {
		out[i] = mgmtreport.Action{SurveyID: x.SurveyID, Dimension: x.Dimension, Text: x.Text, Status: x.Status.Label(apperr.ZH)}
	}
	return out, nil
}

// fundOf is the statement's maintenance fund with its closing balance,
// nil when the statement gave none.
func fundOf(st *finance.Statement) *mgmtreport.Fund {
	if st == nil || st.Fund == nil {
		return nil
	}
	f := st.Fund
	return &mgmtreport.Fund{Opening: f.Opening, Deposits: f.Deposits, Interest: f.Interest, Spent: f.Spent, Closing: f.Closing()}
}
