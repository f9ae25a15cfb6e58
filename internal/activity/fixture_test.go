package activity

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

// fixture is a small estate on a real database with the real services:
// community X (buildings 1 and 2), community Y, a household in each
// building with its owner, and staff callers.
type fixture struct {
	t           *testing.T
	ctx         context.Context
	db          *mongo.DB
	mu          sync.Mutex
	at          time.Time
	communities *community.Service
	households  *household.Service
	engine      *notify.Engine
	svc         *Service
	admin       *access.Caller
	x, y        *community.Community
	xb1, xb2    *community.Building
	ha, hb, hc  *household.Household
	hy          *household.Household
	ownerA      *access.Caller
	ownerB      *access.Caller
	ownerC      *access.Caller
	ownerY      *access.Caller
	supervisor  *access.Caller
	butler      *access.Caller
	security    *access.Caller
	engineer    *access.Caller
	supervisorY *access.Caller
	room        int
}

// The clock starts at Shanghai 2026-11-22 18:00; events start on the 28th.
var (
	start    = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	shanghai = mustZone("Asia/Shanghai")
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := mongo.NewTestDB(t, mongo.Options{})
	f := &fixture{t: t, ctx: context.Background(), db: db, at: start, room: 100}
	f.communities = community.NewService(db, "co", f.now)
	f.households = household.NewService(db, f.communities, nil, nil, f.now)
	f.engine = notify.NewEngine(notify.EngineConfig{DB: db, Channels: []string{notify.ChannelFCM}, Now: f.now})
	f.svc = f.service()
	f.admin = &access.Caller{Kind: auth.KindStaff, ID: "test-admin", Roles: []access.Role{access.Admin}}
	var err error
	f.x, err = f.communities.CreateCommunity(f.ctx, f.admin, community.CreateCommunityInput{Name: "春晖苑"})
	f.must(err)
	f.y, err = f.communities.CreateCommunity(f.ctx, f.admin, community.CreateCommunityInput{Name: "桂香园"})
	f.must(err)
	f.xb1 = f.building(f.x.ID, "1")
	f.xb2 = f.building(f.x.ID, "2")
	yb := f.building(f.y.ID, "1")
	f.ha, f.ownerA = f.household(f.xb1)
	f.hb, f.ownerB = f.household(f.xb1)
	f.hc, f.ownerC = f.household(f.xb2)
	f.hy, f.ownerY = f.household(yb)
	f.supervisor = f.staff(access.Supervisor, f.x.ID)
	f.butler = f.staff(access.Butler, f.x.ID)
	f.security = f.staff(access.Security, f.x.ID)
	f.engineer = f.staff(access.Engineer, f.x.ID)
	f.supervisorY = f.staff(access.Supervisor, f.y.ID)
	return f
}

// service is another server's instance over the same database.
func (f *fixture) service() *Service {
	return NewService(Config{DB: f.db, Communities: f.communities, Households: f.households,
		Files: files.NewStore(f.db, f.now), Sender: f.engine, Now: f.now})
}

func (f *fixture) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.at }

func (f *fixture) set(t time.Time) { f.mu.Lock(); defer f.mu.Unlock(); f.at = t }

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) building(communityID, name string) *community.Building {
	b, err := f.communities.CreateBuilding(f.ctx, f.admin, community.CreateBuildingInput{CommunityID: communityID, Name: name, Units: []string{"1"}})
	f.must(err)
	return b
}

// household creates a household with an owner and returns the owner.
func (f *fixture) household(b *community.Building) (*household.Household, *access.Caller) {
	f.t.Helper()
	f.room++
	h, err := f.households.Create(f.ctx, f.admin, household.CreateInput{BuildingID: b.ID, Unit: "1", Room: fmt.Sprint(f.room)})
	f.must(err)
	return h, f.member(h, access.Owner, fmt.Sprintf("139%08d", f.room))
}

func (f *fixture) member(h *household.Household, role access.Role, phone string) *access.Caller {
	f.t.Helper()
	in := household.AddMemberInput{HouseholdID: h.ID, Person: &household.PersonInput{Name: "住户" + phone[7:], Phone: phone}, Role: role}
	m, err := f.households.AddMember(f.ctx, f.admin, in)
	for i := 0; i < 20 && errors.Is(err, household.ErrNotFound); i++ {
		time.Sleep(50 * time.Millisecond) // FerretDB on a loaded machine (see e2e world())
		m, err = f.households.AddMember(f.ctx, f.admin, in)
	}
	f.must(err)
	return &access.Caller{Kind: auth.KindPerson, ID: m.PersonID, Memberships: []access.Membership{{HouseholdID: h.ID, CommunityID: h.CommunityID, Role: role}}}
}

var staffSeq int

func (f *fixture) staff(role access.Role, communityID string) *access.Caller {
	staffSeq++
	return &access.Caller{Kind: auth.KindStaff, ID: fmt.Sprintf("%024x", staffSeq), Roles: []access.Role{role}, Communities: []string{communityID}}
}

// at is a Shanghai time on 2026-11-dd.
func at(day, hour, minute int) time.Time {
	return time.Date(2026, 11, day, hour, minute, 0, 0, shanghai)
}

// event creates and publishes an event of building 1 of X on the 28th,
// 09:00-11:00, sign-ups closing on the 27th at 12:00.
func (f *fixture) event(capacity, maxParty int, mod ...func(*Input)) *Event {
	f.t.Helper()
	title, place := "垃圾分类亲子课堂", "会所二楼活动室"
	starts, ends, deadline := at(28, 9, 0), at(28, 11, 0), at(27, 12, 0)
	in := Input{CommunityID: f.x.ID, Title: &title, Place: &place, StartsAt: &starts, EndsAt: &ends, SignUpDeadline: &deadline,
		BuildingIDs: &[]string{f.xb1.ID}, Capacity: &capacity, MaxPartySize: &maxParty, Audience: []Tag{ForChildren}}
	for _, m := range mod {
		m(&in)
	}
	ev, err := f.svc.Create(f.ctx, f.butler, in)
	f.must(err)
	ev, err = f.svc.Publish(f.ctx, f.butler, ev.ID)
	f.must(err)
	return ev
}

// notices are the EVENT_REMINDER notices of one kind ("published",
// "promoted", ...) about ev in a person's inbox.
func (f *fixture) notices(c *access.Caller, ev *Event, what string) int {
	f.t.Helper()
	list, err := f.engine.Latest(f.ctx, c.ID, 100)
	f.must(err)
	n := 0
	for _, m := range list {
		if m.Kind == notify.EventReminder && m.Data["eventId"] == ev.ID && m.Data["notice"] == what {
			n++
		}
	}
	return n
}

// held is how many places each sign-up holds, and the highest place taken.
func (f *fixture) held(ev *Event) (map[string]int, int) {
	f.t.Helper()
	ps, err := f.svc.placesOf(f.ctx, ev.ID)
	f.must(err)
	out, highest := map[string]int{}, 0
	for _, p := range ps {
		if p.Holder == blockHolder {
			continue
		}
		out[p.Holder]++
		highest = max(highest, p.N)
	}
	return out, highest
}

func (f *fixture) signUps(ev *Event) []*SignUp {
	f.t.Helper()
	cur, err := f.svc.signups.Find(f.ctx, bson.D{{Key: "eventId", Value: ev.ID}})
	f.must(err)
	var out []*SignUp
	f.must(cur.All(f.ctx, &out))
	return out
}

func wantCode(t *testing.T, what string, err error, code apperr.Code) {
	t.Helper()
	if apperr.CodeOf(err) != code {
		t.Fatalf("%s: err %v (%s), want %s", what, err, apperr.CodeOf(err), code)
	}
}

func pageOf(n int) page.Request { return page.Request{First: n} }

// draft is an unpublished event of the whole of X.
func (f *fixture) draft() *Event {
	f.t.Helper()
	title, place, capacity, party := "重阳敬老茶话会", "会所", 30, 2
	starts, ends, deadline := at(29, 14, 0), at(29, 16, 0), at(29, 10, 0)
	ev, err := f.svc.Create(f.ctx, f.supervisor, Input{CommunityID: f.x.ID, Title: &title, Place: &place, StartsAt: &starts, EndsAt: &ends,
		SignUpDeadline: &deadline, Capacity: &capacity, MaxPartySize: &party, Audience: []Tag{ForElders}})
	f.must(err)
	return ev
}
