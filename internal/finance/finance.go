// Package finance owns the open accounts of a community (收支公示): per
// period, the income and expense statement its supervisors or finance clerks
// publish to every resident, with the fee collection rate read from the
// bills. A published statement is never changed; a correction is a new
// version of the same period that says what changed and names the version
// it replaces. Money is integer fen (int64) end to end.
//
// Periods are a month "YYYY-MM", a quarter "YYYY-Qn" or a year "YYYY": many
// committees publish quarterly or yearly (季度/年度公示), and the collection
// rate of a longer period is the sum of its months.
package finance

import (
	"qinqing/internal/platform/publication"
	"time"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/period"
)

// Category is a line of the statement.
type Category string

// Income categories.
const (
	ManagementFees Category = "MANAGEMENT_FEES" // 物业服务费收入 (collected)
	Parking        Category = "PARKING"         // 停车费收入
	PaidServices   Category = "PAID_SERVICES"   // 有偿服务收入
	OtherIncome    Category = "OTHER_INCOME"    // 其他收入 (advertising, venue rental...)
)

// Expense categories.
const (
	Staff              Category = "STAFF"               // 人员费用
	Cleaning           Category = "CLEANING"            // 保洁费用
	Greening           Category = "GREENING"            // 绿化养护
	Security           Category = "SECURITY"            // 秩序维护
	RepairsMaintenance Category = "REPAIRS_MAINTENANCE" // 共用设施设备维修养护
	Utilities          Category = "UTILITIES"           // 公共水电
	Insurance          Category = "INSURANCE"           // 公众责任保险
	OtherExpense       Category = "OTHER_EXPENSE"       // 其他支出
)

// Side says whether a category is income or expense.
type Side string

const (
	Income  Side = "INCOME"
	Expense Side = "EXPENSE"
)

// Categories in the order every statement lists them: income, then expense.
var Categories = []Category{ManagementFees, Parking, PaidServices, OtherIncome,
	Staff, Cleaning, Greening, Security, RepairsMaintenance, Utilities, Insurance, OtherExpense}

// SideOf is the side of a category.
func SideOf(c Category) Side {
	switch c {
	case ManagementFees, Parking, PaidServices, OtherIncome:
		return Income
	}
	return Expense
}

// Labels name the categories in reports and notices (zh, en).
var Labels = map[Category][2]string{
	ManagementFees: {"物业服务费收入", "Management fees collected"}, Parking: {"停车费收入", "Parking"},
	PaidServices: {"有偿服务收入", "Paid services"}, OtherIncome: {"其他收入", "Other income"},
	Staff: {"人员费用", "Staff"}, Cleaning: {"保洁费用", "Cleaning"}, Greening: {"绿化养护费用", "Greening"},
	Security: {"秩序维护费用", "Security"}, RepairsMaintenance: {"维修养护费用", "Repairs and maintenance"},
	Utilities: {"公共水电费用", "Utilities"}, Insurance: {"保险费用", "Insurance"}, OtherExpense: {"其他支出", "Other expense"},
}

// Limits of one statement.
const (
	MaxAmount     = int64(1_000_000_000_000) // fen per line (100 亿元): twelve of them stay far inside int64
	MaxNote       = 200
	MaxChangeNote = 500
	MaxRemarks    = 1000
	MaxVersions   = 50 // corrections of one period; the list loads every version of a page's periods
	noticeResume  = time.Minute
)

// Line is one category's amount, with an optional note (e.g. "含电梯年检").
type Line struct {
	Category Category `bson:"category"`
	Amount   int64    `bson:"amount"` // fen, >= 0
	Note     string   `bson:"note,omitempty"`
}

// Side is the line's side.
func (l Line) Side() Side { return SideOf(l.Category) }

// Collection is the fee collection of the period when the statement was
// published (a snapshot: later payments do not change a published figure).
type Collection struct {
	Billed      int64 `bson:"billed"`      // fen billed for the period
	Collected   int64 `bson:"collected"`   // fen paid against those bills
	Relieved    int64 `bson:"relieved"`    // fen relieved (减免): not arrears
	Outstanding int64 `bson:"outstanding"` // fen still owed
	Bills       int   `bson:"bills"`       // how many bills
}

// Rate is collected / (billed − relieved), nil when nothing was due. A
// ratio, not money: computed in Go from the integers.
func (c *Collection) Rate() *float64 {
	due := c.Billed - c.Relieved
	if due <= 0 {
		return nil
	}
	r := float64(c.Collected) / float64(due)
	return &r
}

// Statement is one published version of a period's statement. Its content
// is never updated; only Noticed (delivery bookkeeping) changes once.
type Statement struct {
	// ID is derived, "<communityId>:<period>:v<version>": a version is
	// claimed by inserting it, so two concurrent corrections cannot both
	// become the same version.
	ID          string `bson:"_id"`
	CommunityID string `bson:"communityId"`
	Period      string `bson:"period"`
	Version     int    `bson:"version"`
	PreviousID  string `bson:"previousId,omitempty"` // the version this one corrects
	ChangeNote  string `bson:"changeNote,omitempty"` // what changed, required from version 2
	Remarks     string `bson:"remarks,omitempty"`    // the management's explanation (说明)
	Lines       []Line `bson:"lines"`                // every category, in Categories order
	Income      int64  `bson:"income"`
	Expense     int64  `bson:"expense"`
	// Collection is nil when the collection rate was not available.
	Collection *Collection `bson:"collection,omitempty"`
	// Fund is the maintenance fund's movements in the period; nil when the
	// statement did not give them.
	Fund        *Fund     `bson:"fund,omitempty"`
	PublishedBy string    `bson:"publishedBy"`
	PublishedAt time.Time `bson:"publishedAt"`
	Noticed     bool      `bson:"noticed"`

	// Versions are all versions of the period, newest first (this one
	// included), when loaded.
	Versions []*Statement `bson:"-"`
}

// Surplus is income − expense; negative is a deficit (亏损).
func (s *Statement) Surplus() int64 { return s.Income - s.Expense }

// Latest reports whether no newer version of the period exists (known
// when Versions are loaded).
func (s *Statement) Latest() bool {
	return len(s.Versions) == 0 || s.Versions[0].ID == s.ID
}

// StatementID is the derived id of a period's version.
func StatementID(communityID, period string, version int) string {
	return publication.ID(communityID, period, version)
}

// ParseID splits a statement id; ok is false for anything StatementID
// could not have made.
func ParseID(id string) (communityID, period string, version int, ok bool) {
	return publication.ParseID(id, MaxVersions)
}

// Period is the shared reporting period (month, quarter or year).
type Period = period.Period

// ParsePeriod reads "YYYY-MM", "YYYY-Qn" or "YYYY" (years 2000-2099).
func ParsePeriod(s string) (Period, error) { return period.Parse("period", s) }

// Errors of the finance domain.
var (
	ErrNotFound        = apperr.New(apperr.NotFound, "finance.not_found")
	ErrVersionTaken    = apperr.New(apperr.Conflict, "finance.version_taken")
	ErrTooManyVersions = apperr.New(apperr.Conflict, "finance.too_many_versions")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"finance.not_found":          {ZH: "收支公示不存在", EN: "Statement not found"},
		"finance.version_taken":      {ZH: "该期收支公示刚被他人更正，请刷新后重试", EN: "Someone else has just published a correction of this period; reload and try again"},
		"finance.too_many_versions":  {ZH: "该期收支公示更正次数已达上限", EN: "This period has been corrected too many times"},
		"finance.period_future":      {ZH: "期间尚未开始，不能公示", EN: "must not be a period that has not begun"},
		"finance.negative_amount":    {ZH: "金额不能为负数", EN: "must not be negative"},
		"finance.amount_too_large":   {ZH: "金额过大", EN: "is too large"},
		"finance.duplicate_category": {ZH: "同一类别只能填写一行", EN: "must appear only once"},
		"finance.change_note":        {ZH: "更正已公示的收支须说明更正内容", EN: "must say what this correction changes"},
	})
}
