package dunning

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/mongo"
)

// Notice is a written notice (书面催缴通知书) as issued: everything it
// states, frozen in the step's record when the step is taken.
type Notice struct {
	Number           string         `bson:"number"` // "2026-0001", per community and year
	IssuedAt         time.Time      `bson:"issuedAt"`
	IssueDate        string         `bson:"issueDate"` // YYYY-MM-DD in the community
	PayBy            string         `bson:"payBy"`     // YYYY-MM-DD
	CompanyName      string         `bson:"companyName"`
	CommunityName    string         `bson:"communityName"`
	CommunityAddress string         `bson:"communityAddress,omitempty"`
	HouseholdID      string         `bson:"householdId"`
	HouseholdLabel   string         `bson:"householdLabel"`
	AddressedTo      []string       `bson:"addressedTo"` // the owners' names
	Periods          []NoticePeriod `bson:"periods"`
	TotalFen         int64          `bson:"totalFen"`
	HowToPay         string         `bson:"howToPay"`
	Contacts         []Contact      `bson:"contacts"`
}

// NoticePeriod is one overdue bill on a notice.
type NoticePeriod struct {
	Period      string `bson:"period"`  // YYYY-MM
	DueDate     string `bson:"dueDate"` // YYYY-MM-DD
	Fen         int64  `bson:"fen"`     // outstanding when issued
	DaysOverdue int    `bson:"daysOverdue"`
}

// Contact is whom the owner may call about the notice.
type Contact struct {
	Role  string `bson:"role"` // 管家, 客户服务中心
	Name  string `bson:"name"`
	Phone string `bson:"phone,omitempty"`
}

// Facts are what a notice states, read from the other domains.
type Facts struct {
	CompanyName      string
	CommunityName    string
	CommunityAddress string
	Owners           []string
	Bills            []NoticePeriod // open bills, oldest first; DaysOverdue unset
	Contacts         []Contact
}

// NoticeFacts gathers the facts of a household's notice.
type NoticeFacts interface {
	NoticeFacts(ctx context.Context, h *household.Household) (*Facts, error)
}

const colNoticeNumbers = "dunning_notice_numbers"

func init() {
	mongo.Declare(mongo.Indexes{Collection: colNoticeNumbers, Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "year", Value: 1}, {Key: "seq", Value: 1}}, Options: options.Index().SetUnique(true)},
	}})
}

// noticeNumber is one taken notice number; its _id is the record it
// belongs to (case and record index), so two staff recording the same step
// at once, or a retry after a crash, share one number.
type noticeNumber struct {
	ID          string    `bson:"_id"`
	CommunityID string    `bson:"communityId"`
	Year        string    `bson:"year"`
	Seq         int       `bson:"seq"`
	At          time.Time `bson:"at"`
}

func (n noticeNumber) String() string { return fmt.Sprintf("%s-%04d", n.Year, n.Seq) }

// number takes the next notice number of x's community in year for the
// record at index: the last plus one, claimed by insert (DESIGN.md
// "Numbers without gaps").
func (s *Service) number(ctx context.Context, x *Case, index int, year string, now time.Time) (string, error) {
	id := x.ID + "#" + strconv.Itoa(index)
	for range 200 {
		var mine noticeNumber
		err := s.numbers.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&mine)
		if err == nil {
			return mine.String(), nil
		}
		if !errors.Is(err, mgo.ErrNoDocuments) {
			return "", fmt.Errorf("notice number of %s: %w", id, err)
		}
		var last noticeNumber
		err = s.numbers.FindOne(ctx, bson.D{{Key: "communityId", Value: x.CommunityID}, {Key: "year", Value: year}},
			options.FindOne().SetSort(bson.D{{Key: "seq", Value: -1}})).Decode(&last)
		if err != nil && !errors.Is(err, mgo.ErrNoDocuments) {
			return "", fmt.Errorf("last notice number: %w", err)
		}
		n := noticeNumber{ID: id, CommunityID: x.CommunityID, Year: year, Seq: last.Seq + 1, At: now}
		if _, err = s.numbers.InsertOne(ctx, n); err == nil {
			return n.String(), nil
		} else if !mongo.IsDuplicate(err) {
			return "", fmt.Errorf("take notice number: %w", err)
		}
	}
	return "", fmt.Errorf("notice number of %s: too much contention", id)
}

// writtenNotice takes the WRITTEN_NOTICE step with its notice frozen in
// rec, then tells the owners.
func (s *Service) writtenNotice(ctx context.Context, c *access.Caller, x *Case, h *household.Household, rec Record, now time.Time) (*Case, error) {
	var err error
	if rec.Notice, err = s.notice(ctx, x, h, len(x.Records), now); err != nil {
		return nil, err
	}
	out, err := s.apply(ctx, c, x, string(StepWrittenNotice), rec, now)
	if err != nil {
		return nil, err
	}
	// The step is taken; a message that fails is not a reason to tell
	// staff the step failed.
	if err := s.tellOwners(ctx, out, rec.Notice, now); err != nil {
		s.cfg.Log.Error("written notice message", "case", out.ID, "err", err)
	}
	return out, nil
}

// notice freezes the written notice of x for the record at index.
func (s *Service) notice(ctx context.Context, x *Case, h *household.Household, index int, now time.Time) (*Notice, error) {
	if s.cfg.Facts == nil {
		return nil, errors.New("dunning: no notice facts configured")
	}
	f, err := s.cfg.Facts.NoticeFacts(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("notice facts: %w", err)
	}
	local := now.In(s.cfg.Zone(x.CommunityID))
	today := local.Format(time.DateOnly)
	day, _ := time.Parse(time.DateOnly, today)
	nt := &Notice{IssuedAt: now, IssueDate: today, PayBy: day.AddDate(0, 0, s.cfg.PayWithinDays).Format(time.DateOnly),
		CompanyName: f.CompanyName, CommunityName: f.CommunityName, CommunityAddress: f.CommunityAddress,
		HouseholdID: h.ID, HouseholdLabel: h.Label, AddressedTo: f.Owners, Contacts: f.Contacts, Periods: []NoticePeriod{}}
	for _, b := range f.Bills {
		due, err := time.Parse(time.DateOnly, b.DueDate)
		if err != nil || b.DueDate >= today || b.Fen <= 0 {
			continue // not overdue: not chased by this notice
		}
		b.DaysOverdue = int(day.Sub(due).Hours() / 24)
		nt.Periods = append(nt.Periods, b)
		nt.TotalFen += b.Fen
	}
	nt.HowToPay = "在 APP 或微信小程序「我的账单」中在线缴纳；或到" + f.CommunityName + "客户服务中心" + place(f.CommunityAddress) + "现场办理（现金、刷卡、银行转账均可）。"
	if nt.Number, err = s.number(ctx, x, index, local.Format("2006"), now); err != nil {
		return nil, err
	}
	return nt, nil
}

// NoticeFor is the written notice numbered number of the household, for
// the staff who may see its case (the butler, the community's front desk,
// finance clerks and supervisors) and for its owners, to whom it is
// addressed; NOT_FOUND for anyone else, as for a notice that does not exist.
func (s *Service) NoticeFor(ctx context.Context, c *access.Caller, householdID, number string) (*Notice, error) {
	h, err := s.household(ctx, householdID)
	if err != nil {
		return nil, err
	}
	role, member := c.RoleIn(h.ID)
	if !mayChase(c, h.Ref()) && !(member && role == access.Owner) {
		return nil, household.ErrNotFound
	}
	// A household has few cases; its notices are found among them.
	cur, err := s.col.Find(ctx, bson.D{{Key: "householdId", Value: householdID}}, options.Find().SetProjection(bson.D{{Key: "records", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("notice %s: %w", number, err)
	}
	var cases []Case
	if err := cur.All(ctx, &cases); err != nil {
		return nil, fmt.Errorf("notice %s: %w", number, err)
	}
	for _, x := range cases {
		for _, r := range x.Records {
			if r.Notice != nil && r.Notice.Number == number {
				return r.Notice, nil
			}
		}
	}
	return nil, ErrNoNotice
}

// NoticePath is where a notice's PDF is served.
func NoticePath(householdID, number string) string {
	return "/documents/dunning/" + householdID + "/" + number + ".pdf"
}
