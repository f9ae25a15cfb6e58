package app

import (
	"time"

	"qinqing/graph"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/mgmtreport"
	"qinqing/internal/platform/pdf"
)

// newReports wires the management report to the services whose record it
// reads and to the owners' committee (who reads drafts). The outcomes'
// survey actions and the statement's maintenance fund are wired as they
// land (Config.Actions, Config.FundOf).
func newReports(svc *graph.Services, communities *community.Service, households *household.Service, sender mgmtreport.Sender, zone func(string) *time.Location, font *pdf.Font, company string, d Deps, now func() time.Time) *mgmtreport.Service {
	return mgmtreport.NewService(mgmtreport.Config{DB: d.DB, Places: communities, KPIs: svc.KPIs, Equipment: svc.Facilities,
		Inspections: svc.Inspections, Parking: svc.Fees, Events: svc.Activity, Surveys: svc.Surveys, Finance: svc.Finance,
		Committee: svc.Committee, Residents: households, Sender: sender, Zone: zone, Font: font, Company: company, Log: d.Log, Now: now})
}
