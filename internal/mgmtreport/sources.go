package mgmtreport

import (
	"context"
	"log/slog"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/activity"
	"qinqing/internal/committee"
	"qinqing/internal/community"
	"qinqing/internal/facility"
	"qinqing/internal/fee"
	"qinqing/internal/finance"
	"qinqing/internal/household"
	"qinqing/internal/inspection"
	"qinqing/internal/kpi"
	"qinqing/internal/notify"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/pdf"
	"qinqing/internal/survey"
)

// The record the figures are read from; each is a domain service.
type (
	// KPISource: repairs, complaints, enquiries, patrols, incidents (kpi.Service).
	KPISource interface {
		Figures(ctx context.Context, communityID string, from, to time.Time) (*kpi.KPIs, error)
	}
	// EquipmentSource: equipment and its orders by kind (facility.Service).
	EquipmentSource interface {
		StatsByKind(ctx context.Context, communityID string, from, to, now time.Time) ([]facility.KindStats, error)
	}
	// InspectionSource: quality inspections by area (inspection.Service).
	InspectionSource interface {
		PassByArea(ctx context.Context, communityID string, from, to time.Time) ([]inspection.AreaPass, error)
	}
	// ParkingSource: spaces and parking fees billed (fee.Service).
	ParkingSource interface {
		Parking(ctx context.Context, communityID string, months []string) (fee.ParkingFigures, error)
	}
	// EventSource: events held (activity.Service).
	EventSource interface {
		HeldIn(ctx context.Context, communityID string, from, to time.Time) (activity.Held, error)
	}
	// SurveySource: surveys closed in the period (survey.Service).
	SurveySource interface {
		ClosedIn(ctx context.Context, communityID string, from, to time.Time) ([]*survey.Results, error)
	}
	// FinanceSource: the period's latest published statement (finance.Service).
	FinanceSource interface {
		Latest(ctx context.Context, communityID, period string) (*finance.Statement, error)
	}
	// ActionSource: the actions promised for surveys' improve-first items,
	// as published with the period's outcomes (the outcome service).
	ActionSource interface {
		SurveyActions(ctx context.Context, communityID, period string) ([]Action, error)
	}
	// Committee is the community's owners' committee (committee.Service):
	// the caller's office today ("" when not sitting; always "" for
	// staff), and who sits on it.
	Committee interface {
		RoleOf(ctx context.Context, c *access.Caller, communityID string) (committee.Role, error)
		Sitting(ctx context.Context, communityID string) ([]*committee.Seat, error)
	}
	// Residents pages a community's memberships (household.Service), for
	// the publication notice.
	Residents interface {
		MembershipsInCommunity(ctx context.Context, communityID, after string, limit int) ([]*household.Membership, error)
	}
	// Sender is the notification engine.
	Sender interface {
		Send(ctx context.Context, msg notify.Message) (int, error)
	}
	// Places finds communities (their names, for the PDF).
	Places interface {
		ByIDs(ctx context.Context, ids []string) (map[string]*community.Community, error)
	}
)

// Action is what is being done about one improve-first dimension of a
// survey: the promise, and its latest status in words.
type Action struct {
	SurveyID  string
	Dimension survey.Dimension
	Text      string
	Status    string // e.g. 进行中
}

// Fund is the maintenance fund (本体维修基金) block of a statement, in fen.
type Fund struct {
	Opening, Deposits, Interest, Spent, Closing int64
}

// Config wires the service. Actions, FundOf and Committee may be nil:
// no actions are listed, no fund is shown, nobody sits on a committee.
// Actions and FundOf come with the published outcomes and the finance
// statement's maintenance fund.
type Config struct {
	DB          *mongo.DB
	Places      Places
	KPIs        KPISource
	Equipment   EquipmentSource
	Inspections InspectionSource
	Parking     ParkingSource
	Events      EventSource
	Surveys     SurveySource
	Finance     FinanceSource
	Actions     ActionSource
	FundOf      func(*finance.Statement) *Fund
	Committee   Committee
	Residents   Residents // nil (with Sender): nobody is told of a publication
	Sender      Sender
	Zone        func(communityID string) *time.Location
	Font        *pdf.Font
	Company     string // the company's name on the PDF
	Log         *slog.Logger
	Now         func() time.Time
}
