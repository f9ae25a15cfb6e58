package freeservice

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/repair"
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
	repairs     *repair.Service
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
	engineer    *access.Caller
	security    *access.Caller
	supervisorY *access.Caller
	room        int
}

// Shanghai 2026-11-22 18:00; the campaign's days are the 25th and 27th.
var start = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, xZone string) *fixture {
	t.Helper()
	db := mongo.NewTestDB(t, mongo.Options{})
	f := &fixture{t: t, ctx: context.Background(), db: db, at: start, room: 100}
	f.communities = community.NewService(db, "co", f.now)
	f.households = household.NewService(db, f.communities, nil, nil, f.now)
	fs := files.NewStore(db, f.now)
	f.repairs = repair.NewService(db, f.households, nil, fs, nil, nil, f.now)
	f.engine = notify.NewEngine(notify.EngineConfig{DB: db, Channels: []string{notify.ChannelFCM}, Now: f.now})
	f.svc = f.service()
	f.admin = &access.Caller{Kind: auth.KindStaff, ID: "test-admin", Roles: []access.Role{access.Admin}}
	var err error
	f.x, err = f.communities.CreateCommunity(f.ctx, f.admin, community.CreateCommunityInput{Name: "春晖苑", TimeZone: xZone})
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
	f.engineer = f.staff(access.Engineer, f.x.ID)
	f.security = f.staff(access.Security, f.x.ID)
	f.supervisorY = f.staff(access.Supervisor, f.y.ID)
	return f
}

// service is another server's instance over the same database.
func (f *fixture) service() *Service {
	return NewService(Config{DB: f.db, Communities: f.communities, Households: f.households, Repairs: f.repairs,
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

// household creates a household with an owner and returns the owner as a
// caller.
func (f *fixture) household(b *community.Building) (*household.Household, *access.Caller) {
	f.t.Helper()
	f.room++
	h, err := f.households.Create(f.ctx, f.admin, household.CreateInput{BuildingID: b.ID, Unit: "1", Room: fmt.Sprint(f.room)})
	f.must(err)
	return h, f.member(h, access.Owner, fmt.Sprintf("139%08d", f.room))
}

func (f *fixture) member(h *household.Household, role access.Role, phone string) *access.Caller {
	f.t.Helper()
	m, err := f.households.AddMember(f.ctx, f.admin, household.AddMemberInput{HouseholdID: h.ID, Person: &household.PersonInput{Name: "住户" + phone[7:], Phone: phone}, Role: role})
	for i := 0; i < 20 && errors.Is(err, household.ErrNotFound); i++ {
		time.Sleep(50 * time.Millisecond) // FerretDB on a loaded machine (see e2e world())
		m, err = f.households.AddMember(f.ctx, f.admin, household.AddMemberInput{HouseholdID: h.ID, Person: &household.PersonInput{Name: "住户" + phone[7:], Phone: phone}, Role: role})
	}
	f.must(err)
	return &access.Caller{Kind: auth.KindPerson, ID: m.PersonID, Memberships: []access.Membership{{HouseholdID: h.ID, CommunityID: h.CommunityID, Role: role}}}
}

var staffSeq int

func (f *fixture) staff(role access.Role, communityID string) *access.Caller {
	staffSeq++
	return &access.Caller{Kind: auth.KindStaff, ID: fmt.Sprintf("%024x", staffSeq), Roles: []access.Role{role}, Communities: []string{communityID}}
}

// gasCheck is a campaign for building 1 of X: two visit days, two slots on
// the first.
func (f *fixture) gasCheck(capacity int, mod ...func(*CreateInput)) (*Campaign, []*Slot) {
	f.t.Helper()
	in := CreateInput{CommunityID: f.x.ID, Title: "燃气安全检查", BuildingIDs: []string{f.xb1.ID}, IntervalMonths: 2,
		Days: []Day{
			{Date: "2026-11-27", Slots: []SlotSpec{{Start: "14:00", End: "17:00", Capacity: capacity}}},
			{Date: "2026-11-25", Slots: []SlotSpec{{Start: "09:00", End: "11:00", Capacity: capacity}, {Start: "14:00", End: "16:00", Capacity: capacity}}},
		}}
	for _, m := range mod {
		m(&in)
	}
	x, err := f.svc.Create(f.ctx, f.supervisor, in)
	f.must(err)
	slots, err := f.svc.Slots(f.ctx, f.supervisor, x.ID)
	f.must(err)
	return x, slots
}

func wantCode(t *testing.T, what string, err error, code apperr.Code) {
	t.Helper()
	if apperr.CodeOf(err) != code {
		t.Fatalf("%s: err %v (%s), want %s", what, err, apperr.CodeOf(err), code)
	}
}
