package survey

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// fixture: community X with buildings 1 (HA, HB) and 2 (HC), community Y
// (HY). HA has an owner and a family member; the owner of HA also owns HC.
type fixture struct {
	t      *testing.T
	db     *mongo.DB
	clock  *clock
	svc    *Service
	engine *notify.Engine

	x, y                     *community.Community
	b1, b2                   *community.Building
	ha, hb, hc, hy           *household.Household
	ownerA, familyA, ownerB  *access.Caller
	ownerY                   *access.Caller
	supervisor, butler, supY *access.Caller
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := mongo.NewTestDB(t, mongo.Options{})
	// 10:00 on Monday 2026-06-01 in Shanghai.
	f := &fixture{t: t, db: db, clock: &clock{t: time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)}}
	communities := community.NewService(db, "co", f.clock.Now)
	households := household.NewService(db, communities, nil, nil, f.clock.Now)
	f.engine = notify.NewEngine(notify.EngineConfig{DB: db, Now: f.clock.Now})
	f.svc = NewService(Config{DB: db, Households: households, Communities: communities, Sender: f.engine,
		Secret: []byte("test-secret"), Now: f.clock.Now})
	admin := &access.Caller{Kind: auth.KindStaff, ID: "admin", Roles: []access.Role{access.Admin}}
	var err error
	f.x, err = communities.CreateCommunity(ctx, admin, community.CreateCommunityInput{Name: "春晖苑"})
	f.must(err)
	f.y, err = communities.CreateCommunity(ctx, admin, community.CreateCommunityInput{Name: "桂香园"})
	f.must(err)
	f.b1, err = communities.CreateBuilding(ctx, admin, community.CreateBuildingInput{CommunityID: f.x.ID, Name: "1栋", Units: []string{"1"}})
	f.must(err)
	f.b2, err = communities.CreateBuilding(ctx, admin, community.CreateBuildingInput{CommunityID: f.x.ID, Name: "2栋", Units: []string{"1"}})
	f.must(err)
	by, err := communities.CreateBuilding(ctx, admin, community.CreateBuildingInput{CommunityID: f.y.ID, Name: "1栋", Units: []string{"1"}})
	f.must(err)
	flat := func(b *community.Building, room string) *household.Household {
		h, err := households.Create(ctx, admin, household.CreateInput{BuildingID: b.ID, Unit: "1", Room: room})
		f.must(err)
		return h
	}
	person := map[string]*access.Caller{}
	member := func(h *household.Household, name, phone string, role access.Role) *access.Caller {
		m, err := households.AddMember(ctx, admin, household.AddMemberInput{HouseholdID: h.ID, Person: &household.PersonInput{Name: name, Phone: phone}, Role: role})
		f.must(err)
		c := person[m.PersonID]
		if c == nil {
			c = &access.Caller{Kind: auth.KindPerson, ID: m.PersonID}
			person[m.PersonID] = c
		}
		c.Memberships = append(c.Memberships, access.Membership{HouseholdID: h.ID, CommunityID: h.CommunityID, Role: role})
		return c
	}
	f.ha, f.hb, f.hc, f.hy = flat(f.b1, "101"), flat(f.b1, "102"), flat(f.b2, "201"), flat(by, "301")
	f.ownerA = member(f.ha, "王建国", "13900000001", access.Owner)
	f.familyA = member(f.ha, "王小红", "13900000005", access.Family)
	f.ownerB = member(f.hb, "李秀英", "13900000002", access.Owner)
	member(f.hc, "王建国", "13900000001", access.Owner) // A's owner also owns HC
	f.ownerY = member(f.hy, "陈美兰", "13900000004", access.Owner)
	f.supervisor = &access.Caller{Kind: auth.KindStaff, ID: "sup-x", Roles: []access.Role{access.Supervisor}, Communities: []string{f.x.ID}}
	f.butler = &access.Caller{Kind: auth.KindStaff, ID: "butler-x", Roles: []access.Role{access.Butler}, Communities: []string{f.x.ID}}
	f.supY = &access.Caller{Kind: auth.KindStaff, ID: "sup-y", Roles: []access.Role{access.Supervisor}, Communities: []string{f.y.ID}}
	return f
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// input is a small survey of X, open from now for a week: a single choice,
// a rating, a text and two dimension questions.
func (f *fixture) input(per Per, anonymous bool) CreateInput {
	now := f.clock.Now()
	return CreateInput{
		CommunityID: f.x.ID, Title: "物业服务满意度", ResponsePer: per, Anonymous: anonymous,
		OpensAt: now, ClosesAt: now.Add(7 * 24 * time.Hour),
		Questions: []QuestionInput{
			{Type: SingleChoice, Text: "您入住多久了？", Options: []string{"不到一年", "一到五年", "五年以上"}},
			{Type: Rating, Text: "总体满意度"},
			{Type: FreeText, Text: "建议"},
			{Type: DimensionQ, Dimension: Cleaning},
			{Type: DimensionQ, Dimension: Security},
		},
	}
}

// published creates and publishes a survey.
func (f *fixture) published(in CreateInput) *Survey {
	f.t.Helper()
	sv, err := f.svc.Create(ctx, f.supervisor, in)
	f.must(err)
	sv, err = f.svc.Publish(ctx, f.supervisor, sv.ID)
	f.must(err)
	return sv
}

func ip(v int) *int       { return &v }
func sp(v string) *string { return &v }

// answers answers the fixture's survey: choice, rating, text, and the two
// dimensions' importance and satisfaction.
func answers(choice, rating int, text string, ci, cs, si, ss int) []Answer {
	out := []Answer{{QuestionID: "q1", Choices: []int{choice}}, {QuestionID: "q2", Rating: ip(rating)},
		{QuestionID: "q4", Importance: ip(ci), Satisfaction: ip(cs)}, {QuestionID: "q5", Importance: ip(si), Satisfaction: ip(ss)}}
	if text != "" {
		out = append(out, Answer{QuestionID: "q3", Text: sp(text)})
	}
	return out
}

func (f *fixture) responseDocs(surveyID string) []bson.M {
	f.t.Helper()
	cur, err := f.db.Collection("survey_responses").Find(ctx, bson.D{{Key: "surveyId", Value: surveyID}})
	f.must(err)
	var out []bson.M
	f.must(cur.All(ctx, &out))
	return out
}

// inboxCount counts the notifications with key sent to person.
func (f *fixture) inboxCount(key, person string) int64 {
	f.t.Helper()
	q := bson.D{{Key: "key", Value: key}}
	if person != "" {
		q = append(q, bson.E{Key: "recipientId", Value: person})
	}
	n, err := f.db.Collection("notifications").CountDocuments(ctx, q)
	f.must(err)
	return n
}
