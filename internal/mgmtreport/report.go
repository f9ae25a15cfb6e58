// Package mgmtreport owns the management report (管理报告) a community's
// property company gives its owners each month, quarter or year: figures
// for every part of the estate's running, generated from the record
// (maintenance orders, inspections, patrols, incidents, parking, repairs,
// complaints, enquiries, events, surveys and the published income and
// expense statement), a manager's commentary per section, and a PDF.
//
// A report starts as a DRAFT that staff may regenerate (the figures are
// computed again, the commentary kept) and comment on; sitting committee
// members (业委会) read drafts and comment on them. Publishing makes the
// version immutable and readable by every resident of the community. A
// correction is the next version of the same community and period, which
// must say what changed and names the version it replaces; earlier
// versions stay readable. Figures are integers (counts, fen, or the two
// counts of a ratio); a rate is computed when shown, never stored.
package mgmtreport

import (
	"qinqing/internal/platform/publication"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
)

// Section is a part of the report (seed 004: 设备、治安、消防、停车场、清洁、
// 绿化、消杀、管理费收支、本体维修基金收支 ...).
type Section string

const (
	Equipment         Section = "EQUIPMENT"
	Security          Section = "SECURITY"
	FireSafety        Section = "FIRE_SAFETY"
	Parking           Section = "PARKING"
	Cleaning          Section = "CLEANING"
	Greening          Section = "GREENING"
	PestControl       Section = "PEST_CONTROL"
	RepairsComplaints Section = "REPAIRS_COMPLAINTS"
	Enquiries         Section = "ENQUIRIES"
	Events            Section = "EVENTS"
	Surveys           Section = "SURVEYS"
	Finance           Section = "FINANCE"
)

// Sections in the order every report lists them.
var Sections = []Section{Equipment, Security, FireSafety, Parking, Cleaning, Greening, PestControl,
	RepairsComplaints, Enquiries, Events, Surveys, Finance}

// Titles name the sections (zh, en).
var Titles = map[Section][2]string{
	Equipment: {"设备设施维护", "Equipment and maintenance"}, Security: {"治安管理", "Security"},
	FireSafety: {"消防管理", "Fire safety"}, Parking: {"停车场管理", "Parking"}, Cleaning: {"清洁卫生", "Cleaning"},
	Greening: {"绿化养护", "Greening"}, PestControl: {"消杀（四害防治）", "Pest control"},
	RepairsComplaints: {"报修与投诉", "Repairs and complaints"}, Enquiries: {"咨询服务", "Enquiries"},
	Events: {"社区活动", "Community events"}, Surveys: {"满意度调查及改进", "Surveys and what is being done"},
	Finance: {"管理费收支与本体维修基金", "Income and expense, and the maintenance fund"},
}

// Unit says how to read a figure's numbers.
type Unit string

const (
	Count Unit = "COUNT" // Value is a count
	Fen   Unit = "FEN"   // Value is money in fen
	Ratio Unit = "RATIO" // Value out of Denominator (counts, or fen for the collection rate)
)

// Figure is one number of a section, with its label as generated (a
// published report keeps its words too).
type Figure struct {
	Key         string `bson:"key"` // stable, e.g. "cleaning.pass.LOBBY"
	LabelZH     string `bson:"labelZh"`
	LabelEN     string `bson:"labelEn"`
	Unit        Unit   `bson:"unit"`
	Value       int64  `bson:"value"`
	Denominator int64  `bson:"denominator,omitempty"`
	// Available is false when the figure's source is not connected.
	Available bool `bson:"available"`
}

// Rate is Value/Denominator of a RATIO, nil when there is nothing to
// divide by or the source is not available.
func (f *Figure) Rate() *float64 {
	if f.Unit != Ratio || !f.Available || f.Denominator == 0 {
		return nil
	}
	r := float64(f.Value) / float64(f.Denominator)
	return &r
}

// Item is a line of words a figure cannot hold: a survey's improve-first
// dimension and what is being done about it, or why a section is empty.
type Item struct {
	LabelZH string `bson:"labelZh"`
	LabelEN string `bson:"labelEn"`
	Text    string `bson:"text,omitempty"`
}

// SectionData is one section of one version.
type SectionData struct {
	Section      Section    `bson:"section"`
	Figures      []Figure   `bson:"figures"`
	Items        []Item     `bson:"items"`
	Commentary   string     `bson:"commentary,omitempty"` // the manager's (管理处点评)
	CommentaryBy string     `bson:"commentaryBy,omitempty"`
	CommentaryAt *time.Time `bson:"commentaryAt,omitempty"`
}

// Status of a version.
type Status string

const (
	Draft     Status = "DRAFT"
	Published Status = "PUBLISHED"
)

// Report is one version of a community's report for a period.
type Report struct {
	// ID is derived, "<communityId>:<period>:v<version>": a version is
	// claimed by inserting it, so two generators cannot both start it.
	ID          string        `bson:"_id"`
	CommunityID string        `bson:"communityId"`
	Period      string        `bson:"period"`
	Version     int           `bson:"version"`
	PreviousID  string        `bson:"previousId,omitempty"`
	ChangeNote  string        `bson:"changeNote,omitempty"`
	Status      Status        `bson:"status"`
	From        time.Time     `bson:"from"` // the period's window, community time
	To          time.Time     `bson:"to"`
	Sections    []SectionData `bson:"sections"`
	GeneratedAt time.Time     `bson:"generatedAt"`
	GeneratedBy string        `bson:"generatedBy"`
	// Revision counts a draft's changes (regenerated, commentary): a
	// publisher may name the revision they reviewed.
	Revision    int        `bson:"revision"`
	PublishedAt *time.Time `bson:"publishedAt,omitempty"`
	PublishedBy string     `bson:"publishedBy,omitempty"`
	// Noticed: the residents were told of the publication (Tick finishes
	// a notice cut short). Drafts are false too, and have no publishedAt.
	Noticed bool `bson:"noticed"`

	// Versions are the period's versions the caller may read, newest
	// first, this one included, when loaded.
	Versions []*Report `bson:"-"`
}

// Section is the report's data of s (nil if absent).
func (r *Report) Section(s Section) *SectionData {
	for i := range r.Sections {
		if r.Sections[i].Section == s {
			return &r.Sections[i]
		}
	}
	return nil
}

// Latest reports whether no newer version the caller may read exists.
func (r *Report) Latest() bool { return len(r.Versions) == 0 || r.Versions[0].ID == r.ID }

// ReportID is the derived id of a period's version.
func ReportID(communityID, p string, version int) string {
	return publication.ID(communityID, p, version)
}

// ParseID splits an id; ok is false for anything ReportID could not make.
func ParseID(id string) (communityID, p string, version int, ok bool) {
	return publication.ParseID(id, MaxVersions)
}

// Limits.
const (
	MaxVersions   = 50
	MaxCommentary = 2000
	MaxComment    = 1000
	MaxChangeNote = 500
	MaxComments   = 200 // per version: comments are read with the draft in one query
)

// Errors of the domain.
var (
	ErrNotFound        = apperr.New(apperr.NotFound, "mgmtreport.not_found")
	ErrVersionTaken    = apperr.New(apperr.Conflict, "mgmtreport.version_taken")
	ErrTooManyVersions = apperr.New(apperr.Conflict, "mgmtreport.too_many_versions")
	ErrPublished       = apperr.New(apperr.Conflict, "mgmtreport.published")
	ErrNotLatest       = apperr.New(apperr.Conflict, "mgmtreport.not_latest")
	ErrChanged         = apperr.New(apperr.Conflict, "mgmtreport.changed")
	ErrTooManyComments = apperr.New(apperr.Conflict, "mgmtreport.too_many_comments")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"mgmtreport.not_found":         {ZH: "管理报告不存在", EN: "Management report not found"},
		"mgmtreport.version_taken":     {ZH: "该期管理报告刚被他人更新，请刷新后重试", EN: "Someone else has just started this version of the report; reload and try again"},
		"mgmtreport.too_many_versions": {ZH: "该期管理报告更正次数已达上限", EN: "This period's report has been corrected too many times"},
		"mgmtreport.published":         {ZH: "已发布的管理报告不能修改；如需更正，请重新生成以开始新版本", EN: "A published report cannot change; generate the period again to start a correction"},
		"mgmtreport.not_latest":        {ZH: "只能处理该期最新版本的管理报告", EN: "Only the period's latest version can be changed"},
		"mgmtreport.changed":           {ZH: "报告草稿在您审阅后已被修改，请刷新后重试", EN: "The draft has changed since you reviewed it; reload and try again"},
		"mgmtreport.too_many_comments": {ZH: "本版本的意见条数已达上限", EN: "This version has too many comments"},
		"mgmtreport.change_note":       {ZH: "更正已发布的管理报告须说明更正内容", EN: "must say what this correction changes"},
		"mgmtreport.phone_like":        {ZH: "面向业主的内容不能包含电话号码等个人信息", EN: "must not contain phone numbers or other personal details"},
		"mgmtreport.comment_draft":     {ZH: "只能对未发布的报告草稿提出意见", EN: "Comments are taken on drafts only"},
	})
	mongo.Declare(
		mongo.Indexes{Collection: colReports, Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "period", Value: 1}, {Key: "version", Value: 1}}},
			// Notices cut short, for Tick.
			{Keys: bson.D{{Key: "noticed", Value: 1}, {Key: "publishedAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: colPeriods, Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "published", Value: 1}, {Key: "sortKey", Value: 1}}},
		}},
		mongo.Indexes{Collection: colComments, Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "reportId", Value: 1}, {Key: "createdAt", Value: 1}}},
		}},
	)
}

// Collections the domain owns.
const (
	colReports  = "mgmt_reports"
	colPeriods  = "mgmt_report_periods" // one per community and period: what the list pages over
	colComments = "mgmt_report_comments"
)
