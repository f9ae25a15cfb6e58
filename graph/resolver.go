// Package graph is the GraphQL edge: generated executor, thin resolvers,
// per-request loaders and the error presenter. Resolvers read the caller,
// call one domain service and return; rules live in internal/<domain>.
package graph

import (
	"context"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/activity"
	"qinqing/internal/announce"
	"qinqing/internal/archive"
	"qinqing/internal/catalog"
	"qinqing/internal/committee"
	"qinqing/internal/community"
	"qinqing/internal/complaint"
	"qinqing/internal/dunning"
	"qinqing/internal/enquiry"
	"qinqing/internal/facility"
	"qinqing/internal/fee"
	"qinqing/internal/finance"
	"qinqing/internal/freeservice"
	"qinqing/internal/greeting"
	"qinqing/internal/hotline"
	"qinqing/internal/household"
	"qinqing/internal/identity"
	"qinqing/internal/incident"
	"qinqing/internal/inspection"
	"qinqing/internal/kpi"
	"qinqing/internal/mgmtreport"
	"qinqing/internal/moving"
	"qinqing/internal/notify"
	"qinqing/internal/outcome"
	"qinqing/internal/patrol"
	"qinqing/internal/payment"
	"qinqing/internal/platform/events"
	"qinqing/internal/platform/files"
	"qinqing/internal/renovation"
	"qinqing/internal/repair"
	"qinqing/internal/review"
	"qinqing/internal/serviceorder"
	"qinqing/internal/staff"
	"qinqing/internal/survey"
	"qinqing/internal/tasks"
	"qinqing/internal/vote"
)

// Services are the domain services the API calls.
type Services struct {
	Identity      *identity.Service
	Communities   *community.Service
	Households    *household.Service
	Archive       *archive.Service
	Staff         *staff.Service
	Events        *events.Bus
	Files         *files.Store
	FileURLs      *files.Signer // nil: URLs need the Authorization header
	Repairs       *repair.Service
	Complaints    *complaint.Service
	Notify        *notify.Engine
	Announcements *announce.Service
	Greetings     *greeting.Service
	WechatGrants  *notify.WechatGrants
	Devices       *notify.Devices
	Tasks         *tasks.Service
	Renovations   *renovation.Service
	Moves         *moving.Service
	Catalog       *catalog.Service
	ServiceOrders *serviceorder.Service
	FreeServices  *freeservice.Service
	Fees          *fee.Service
	KPIs          *kpi.Service
	Surveys       *survey.Service
	Activity      *activity.Service
	Calls         *hotline.Service
	Enquiries     *enquiry.Service
	Dunning       *dunning.Service
	Patrols       *patrol.Service
	Finance       *finance.Service
	Committee     *committee.Service
	Payments      *payment.Service
	Inspections   *inspection.Service
	Facilities    *facility.Service
	Reviews       *review.Service
	MgmtReports   *mgmtreport.Service
	Incidents     *incident.Service
	// Meetings are the owners' committee's meetings and their action items.
	Meetings *committee.Meetings
	Outcomes *outcome.Service
	Votes    *vote.Service
	// Now is the clock of the domain services (overdue flags).
	Now func() time.Time
}

// Resolver is the root resolver.
type Resolver struct {
	Svc *Services

	payloads eventPayloads // one payload load per live event, shared by its subscribers
	// inboxRecipients is the last notification event's recipients as a set (notify.go).
	inboxRecipients recipientSets
}

// caller returns the authenticated caller or UNAUTHENTICATED.
func caller(ctx context.Context) (*access.Caller, error) { return access.Require(ctx) }
