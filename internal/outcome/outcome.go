// Package outcome owns the published outcomes of a community (投诉与咨询处理
// 结果公示, 满意度调查整改回应): per period, what its owners raised and what
// became of it, told to every resident. Counts of complaints and enquiries
// by category are taken from the record when published; examples, promised
// improvements and the actions answering each survey's improve-first items
// (四分图 优先改进区) are written by staff and checked for details that could
// identify a household. A published outcome never changes except for the
// status of its promised actions, which moves later with its history kept;
// a correction is a new version of the same period that says what changed.
package outcome

import (
	"qinqing/internal/platform/publication"
	"regexp"
	"strconv"
	"strings"
	"time"

	"qinqing/internal/complaint"
	"qinqing/internal/enquiry"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/survey"
)

// ExampleKind says what an example was.
type ExampleKind string

const (
	ComplaintExample ExampleKind = "COMPLAINT"
	EnquiryExample   ExampleKind = "ENQUIRY"
)

// ActionStatus is where a promised action stands.
type ActionStatus string

const (
	Promised   ActionStatus = "PROMISED"
	InProgress ActionStatus = "IN_PROGRESS"
	Done       ActionStatus = "DONE"
	Dropped    ActionStatus = "DROPPED"
)

// ActionStatuses in order.
var ActionStatuses = []ActionStatus{Promised, InProgress, Done, Dropped}

var statusLabels = map[ActionStatus][2]string{
	Promised: {"已承诺", "Promised"}, InProgress: {"进行中", "In progress"}, Done: {"已完成", "Done"}, Dropped: {"已取消", "Dropped"},
}

// Label names the status in lang, as owners read it (e.g. 进行中).
func (s ActionStatus) Label(lang apperr.Lang) string {
	if lang == apperr.EN {
		return statusLabels[s][1]
	}
	return statusLabels[s][0]
}

// next are the moves of a promise: forward, or dropped with a reason. DONE
// and DROPPED are final: what owners were told happened must not be
// quietly taken back (a correction says so instead).
var next = map[ActionStatus][]ActionStatus{
	Promised:   {InProgress, Done, Dropped},
	InProgress: {Done, Dropped},
}

// Limits of one publication.
const (
	MaxExamples     = 20
	MaxImprovements = 20
	MaxSummary      = 200
	MaxResolution   = 500
	MaxActionText   = 200
	MaxNote         = 500
	MaxChangeNote   = 500
	MaxRemarks      = 1000
	MaxVersions     = 50
	noticeResume    = time.Minute
)

// Count is how many of one category were raised in the period.
type Count struct {
	Category string `bson:"category"`
	Count    int    `bson:"count"`
}

// Example is one case told in words, with no one in it.
type Example struct {
	Kind       ExampleKind `bson:"kind"`
	Category   string      `bson:"category"`
	Summary    string      `bson:"summary"`
	Resolution string      `bson:"resolution"`
}

// Change is one move of an action's status.
type Change struct {
	Status ActionStatus `bson:"status"`
	Note   string       `bson:"note,omitempty"`
	At     time.Time    `bson:"at"`
	By     string       `bson:"by"` // staff id; never shown to owners
}

// Action is something promised: an improvement, or the answer to one
// improve-first item of a survey (SurveyID and Dimension set).
type Action struct {
	Key       string           `bson:"key"` // "a1", "a2"... within the publication
	Text      string           `bson:"text"`
	Due       string           `bson:"due"` // YYYY-MM-DD, the community's calendar
	SurveyID  string           `bson:"surveyId,omitempty"`
	Dimension survey.Dimension `bson:"dimension,omitempty"`
	Status    ActionStatus     `bson:"status"`
	StatusAt  time.Time        `bson:"statusAt"`
	History   []Change         `bson:"history"` // oldest first, PROMISED first

	// OutcomeID is the publication it belongs to (set when loaded).
	OutcomeID string `bson:"-"`
}

// ID is the action's id: the publication's id and its key.
func (a *Action) ID() string { return a.OutcomeID + ":" + a.Key }

// Open reports an action that may still move.
func (a *Action) Open() bool { return len(next[a.Status]) > 0 }

// SurveyItem is one improve-first dimension of a survey: its scores as
// sums (means are computed when read; no floats stored) and the action
// answering it.
type SurveyItem struct {
	Dimension       survey.Dimension `bson:"dimension"`
	Rated           int              `bson:"rated"` // responses scoring it
	ImportanceSum   int              `bson:"importanceSum"`
	SatisfactionSum int              `bson:"satisfactionSum"`
	Satisfied       int              `bson:"satisfied"` // satisfaction 4 or 5
	ActionKey       string           `bson:"actionKey"`

	// Action is the action with ActionKey (set when loaded).
	Action *Action `bson:"-"`
}

// MeanImportance is the mean importance score, nil when nobody rated it.
func (it SurveyItem) MeanImportance() *float64 { return meanOf(it.ImportanceSum, it.Rated) }

// MeanSatisfaction is the mean satisfaction score, nil when nobody rated it.
func (it SurveyItem) MeanSatisfaction() *float64 { return meanOf(it.SatisfactionSum, it.Rated) }

func meanOf(sum, n int) *float64 {
	if n == 0 {
		return nil
	}
	m := float64(sum) / float64(n)
	return &m
}

// SurveyResponse answers one survey closed in the period.
type SurveyResponse struct {
	SurveyID  string       `bson:"surveyId"`
	Title     string       `bson:"title"`
	EndedAt   time.Time    `bson:"endedAt"`
	Responses int          `bson:"responses"`
	Items     []SurveyItem `bson:"items"`
}

// Outcomes is one published version of a period's outcomes. Only the
// actions' statuses (and Noticed) change after publishing.
type Outcomes struct {
	// ID is "<communityId>:<period>:v<version>": a version is claimed by
	// inserting it, so two concurrent corrections cannot both take it.
	ID          string           `bson:"_id"`
	CommunityID string           `bson:"communityId"`
	Period      string           `bson:"period"`
	Version     int              `bson:"version"`
	PreviousID  string           `bson:"previousId,omitempty"`
	ChangeNote  string           `bson:"changeNote,omitempty"`
	Remarks     string           `bson:"remarks,omitempty"`
	Complaints  []Count          `bson:"complaints"` // every category, in complaint.Categories order
	Enquiries   []Count          `bson:"enquiries"`  // every category, in enquiry.Categories order
	Examples    []Example        `bson:"examples"`
	Actions     []*Action        `bson:"actions"` // improvements first, then the survey items' actions
	Surveys     []SurveyResponse `bson:"surveys"`
	PublishedBy string           `bson:"publishedBy"`
	PublishedAt time.Time        `bson:"publishedAt"`
	Noticed     bool             `bson:"noticed"`
	// SupersededBy is the correction that froze this version: its actions
	// move on there.
	SupersededBy string `bson:"supersededBy,omitempty"`
	// Rev counts status changes: each is written with a filter on the rev
	// it read, so two at once cannot lose one.
	Rev int `bson:"rev"`

	// Versions are every version of the period, newest first, when loaded.
	Versions []*Outcomes `bson:"-"`
}

// Latest reports whether no newer version of the period exists (known
// when Versions are loaded).
func (o *Outcomes) Latest() bool { return len(o.Versions) == 0 || o.Versions[0].ID == o.ID }

// Improvements are the promised improvements (not answering a survey).
func (o *Outcomes) Improvements() []*Action {
	var out []*Action
	for _, a := range o.Actions {
		if a.SurveyID == "" {
			out = append(out, a)
		}
	}
	return out
}

// Action is the action with key, nil when none.
func (o *Outcomes) Action(key string) *Action {
	for _, a := range o.Actions {
		if a.Key == key {
			return a
		}
	}
	return nil
}

// Total adds up counts.
func Total(cs []Count) int {
	n := 0
	for _, c := range cs {
		n += c.Count
	}
	return n
}

// adopt sets the actions' owner, and each survey item's action, after
// loading.
func (o *Outcomes) adopt() {
	for _, a := range o.Actions {
		a.OutcomeID = o.ID
	}
	for i := range o.Surveys {
		for j := range o.Surveys[i].Items {
			it := &o.Surveys[i].Items[j]
			it.Action = o.Action(it.ActionKey)
		}
	}
}

// OutcomesID is the derived id of a period's version.
func OutcomesID(communityID, period string, version int) string {
	return publication.ID(communityID, period, version)
}

// ParseID splits a publication id; ok is false for anything OutcomesID
// could not have made.
func ParseID(id string) (communityID, periodText string, version int, ok bool) {
	return publication.ParseID(id, MaxVersions)
}

// ParseActionID splits an action id "<outcomes id>:a<n>".
func ParseActionID(id string) (outcomesID, key string, ok bool) {
	i := strings.LastIndexByte(id, ':')
	if i < 0 {
		return "", "", false
	}
	outcomesID, key = id[:i], id[i+1:]
	if _, _, _, ok := ParseID(outcomesID); !ok || len(key) < 2 || key[0] != 'a' {
		return "", "", false
	}
	if n, err := strconv.Atoi(key[1:]); err != nil || n < 1 || strconv.Itoa(n) != key[1:] {
		return "", "", false
	}
	return outcomesID, key, true
}

// Category labels (zh, en) of complaints and enquiries as owners read them.
var (
	ComplaintLabels = map[complaint.Category][2]string{
		complaint.Noise: {"噪音扰民", "Noise"}, complaint.Hygiene: {"环境卫生", "Hygiene"}, complaint.Security: {"治安秩序", "Security"},
		complaint.StaffAttitude: {"服务态度", "Staff attitude"}, complaint.Parking: {"停车", "Parking"}, complaint.Fees: {"收费", "Fees"},
		complaint.Other: {"其他", "Other"},
	}
	EnquiryLabels = map[enquiry.Category][2]string{
		enquiry.Parking: {"停车", "Parking"}, enquiry.Fees: {"收费", "Fees"}, enquiry.Renovation: {"装修", "Renovation"},
		enquiry.Moving: {"搬家", "Moving"}, enquiry.Utilities: {"水电", "Water and power"}, enquiry.Security: {"安全门禁", "Security and access"},
		enquiry.Neighbours: {"邻里", "Neighbours"}, enquiry.Facilities: {"公共设施", "Shared facilities"}, enquiry.Paperwork: {"证明手续", "Paperwork"},
		enquiry.Other: {"其他", "Other"},
	}
)

// CategoryLabel names an example's or a count's category in lang.
func CategoryLabel(kind ExampleKind, category string, lang apperr.Lang) string {
	var t [2]string
	if kind == ComplaintExample {
		t = ComplaintLabels[complaint.Category(category)]
	} else {
		t = EnquiryLabels[enquiry.Category(category)]
	}
	if lang == apperr.EN {
		return t[1]
	}
	return t[0]
}

// Details that could identify a household, refused in anything staff write
// for owners: seven or more digits in a row, spaces and hyphens allowed
// between them (a phone number, an ID or account number), and a room: "502
// 室", the room after a unit or a building as household labels write it
// ("1栋1单元502", "3栋502"), or "3-1-502". A building or a unit alone ("3栋
// 楼道", "2单元门口") is shared space and names nobody.
var (
	longDigits = regexp.MustCompile(`\d(?:[\s\-]*\d){6,}`)
	roomLike   = regexp.MustCompile(`\d+\s*(?:室|号房)|单元\s*\d+|(?:栋|幢|座|号楼)\s*\d{3,4}|\d+\s*-\s*\d+\s*-\s*\d+`)
)

// personal reports text that names a household's details.
func personal(s string) bool {
	return longDigits.MatchString(s) || roomLike.MatchString(s)
}

// Errors of the outcome domain.
var (
	ErrNotFound        = apperr.New(apperr.NotFound, "outcome.not_found")
	ErrActionNotFound  = apperr.New(apperr.NotFound, "outcome.action_not_found")
	ErrVersionTaken    = apperr.New(apperr.Conflict, "outcome.version_taken")
	ErrTooManyVersions = apperr.New(apperr.Conflict, "outcome.too_many_versions")
	ErrSuperseded      = apperr.New(apperr.Conflict, "outcome.superseded")
	ErrActionClosed    = apperr.New(apperr.Conflict, "outcome.action_closed")
	ErrActionMoved     = apperr.New(apperr.Conflict, "outcome.action_moved")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"outcome.not_found":         {ZH: "处理结果公示不存在", EN: "Published outcomes not found"},
		"outcome.action_not_found":  {ZH: "整改事项不存在", EN: "Action not found"},
		"outcome.version_taken":     {ZH: "该期处理结果刚被他人更正，请刷新后重试", EN: "Someone else has just published a correction of this period; reload and try again"},
		"outcome.too_many_versions": {ZH: "该期处理结果更正次数已达上限", EN: "This period has been corrected too many times"},
		"outcome.superseded":        {ZH: "该期公示已更正，请在最新版本中更新整改进度", EN: "These outcomes have been corrected; update the action in the latest version"},
		"outcome.action_closed":     {ZH: "该整改事项已完成或已取消，不能再变更", EN: "This action is done or dropped and cannot change any more"},
		"outcome.action_moved":      {ZH: "整改进度刚被他人更新，请刷新后重试", EN: "Someone else has just updated these actions; reload and try again"},
		"outcome.change_note":       {ZH: "更正已公示的处理结果须说明更正内容", EN: "must say what this correction changes"},
		"outcome.personal":          {ZH: "请勿填写电话、门牌号等可识别住户的信息", EN: "must not contain phone numbers, rooms or other details that identify a household"},
		"outcome.bad_category":      {ZH: "类别与类型不符", EN: "is not a category of this kind"},
		"outcome.bad_date":          {ZH: "日期格式应为 YYYY-MM-DD", EN: "must be a date YYYY-MM-DD"},
		"outcome.bad_move":          {ZH: "整改状态不能由%s变为%s", EN: "cannot move from %s to %s"},
		"outcome.note_required":     {ZH: "取消整改事项须说明原因", EN: "must say why the action is dropped"},
		"outcome.not_closed_survey": {ZH: "该调查不是本期内结束的本小区调查", EN: "is not a survey of this community that closed in the period"},
		"outcome.not_improve_first": {ZH: "该项不在调查的优先改进区", EN: "is not in the survey's improve-first quadrant"},
		"outcome.duplicate_item":    {ZH: "同一调查项目只能承诺一项整改", EN: "must name each survey item once"},
		"outcome.unanswered_item":   {ZH: "调查“%s”的优先改进项“%s”尚未承诺整改措施", EN: "must answer the improve-first item %[2]s of the survey %[1]s"},
		"outcome.continues":         {ZH: "不是上一版本中的整改事项", EN: "is not an action of the version corrected"},
		"outcome.continues_twice":   {ZH: "同一整改事项只能延续一次", EN: "must continue each action once"},
	})
}
