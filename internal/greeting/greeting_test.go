package greeting

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/community"
	"qinqing/internal/festival"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at is a moment in Shanghai.
func at(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, shanghai)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// world is two communities with households, persons and care profiles, and
// the real services over one test database.
type world struct {
	t      *testing.T
	db     *mongo.DB
	clock  *clock
	comms  *community.Service
	hh     *household.Service
	arch   *archive.Service
	engine *notify.Engine
	svc    *Service

	admin, supX, butlerX, engineerX, supY *access.Caller

	X, Y                     *community.Community
	XB1, XB2, YB1            *community.Building
	HA, HB, HC, HY           *household.Household
	wang, granny, tenant, li string // HA (XB1): owner, family born 1950, tenant; HB (XB1): li, born 1970
	zhao, chen               string // HC (XB2): zhao, lunar birthday 8-15, born 1960 (li is family there too); HY: chen
	xPersons, xb1Persons     []string
	elders                   []string
	ownerWang                *access.Caller
	ctx                      context.Context
	mustF                    func(error)
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, ctx: ctx, clock: &clock{t: at(2026, 3, 1, 12, 0)}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	w.mustF = must
	w.db = mongo.NewTestDB(t, mongo.Options{})
	w.comms = community.NewService(w.db, "company-1", w.clock.Now)
	w.hh = household.NewService(w.db, w.comms, []string{"DISABLED", "HARDSHIP", "CHRONIC_ILLNESS"}, nil, w.clock.Now)
	w.arch = archive.NewService(w.db, w.hh, w.clock.Now)
	w.engine = notify.NewEngine(notify.EngineConfig{DB: w.db, Channels: []string{notify.ChannelFCM}, Now: w.clock.Now})
	w.svc = w.newService(w.db)

	w.admin = &access.Caller{Kind: auth.KindStaff, ID: "admin", Roles: []access.Role{access.Admin}}
	var err error
	w.X, err = w.comms.CreateCommunity(ctx, w.admin, community.CreateCommunityInput{Name: "春晖苑"})
	must(err)
	w.Y, err = w.comms.CreateCommunity(ctx, w.admin, community.CreateCommunityInput{Name: "桂香园"})
	must(err)
	w.XB1, err = w.comms.CreateBuilding(ctx, w.admin, community.CreateBuildingInput{CommunityID: w.X.ID, Name: "1", Units: []string{"1"}})
	must(err)
	w.XB2, err = w.comms.CreateBuilding(ctx, w.admin, community.CreateBuildingInput{CommunityID: w.X.ID, Name: "2", Units: []string{"1"}})
	must(err)
	w.YB1, err = w.comms.CreateBuilding(ctx, w.admin, community.CreateBuildingInput{CommunityID: w.Y.ID, Name: "1", Units: []string{"1"}})
	must(err)
	w.supX = &access.Caller{Kind: auth.KindStaff, ID: "sup-x", Roles: []access.Role{access.Supervisor}, Communities: []string{w.X.ID}}
	w.butlerX = &access.Caller{Kind: auth.KindStaff, ID: "butler-x", Roles: []access.Role{access.Butler}, Communities: []string{w.X.ID}, Buildings: []string{w.XB1.ID}}
	w.engineerX = &access.Caller{Kind: auth.KindStaff, ID: "eng-x", Roles: []access.Role{access.Engineer}, Communities: []string{w.X.ID}}
	w.supY = &access.Caller{Kind: auth.KindStaff, ID: "sup-y", Roles: []access.Role{access.Supervisor}, Communities: []string{w.Y.ID}}

	flat := func(b *community.Building, room string) *household.Household {
		h, err := w.hh.Create(ctx, w.admin, household.CreateInput{BuildingID: b.ID, Unit: b.Units[0], Room: room})
		must(err)
		return h
	}
	add := func(h *household.Household, name, phone string, role access.Role) string {
		m, err := w.hh.AddMember(ctx, w.admin, household.AddMemberInput{HouseholdID: h.ID, Person: &household.PersonInput{Name: name, Phone: phone}, Role: role})
		must(err)
		return m.PersonID
	}
	year := func(y int) *int { return &y }
	birthday := func(person string, b archive.Birthday) {
		_, err := w.arch.UpdateProfile(ctx, w.supX, person, archive.ProfileInput{Birthday: &b})
		must(err)
	}
	w.HA, w.HB, w.HC = flat(w.XB1, "101"), flat(w.XB1, "102"), flat(w.XB2, "201")
	w.HY = flat(w.YB1, "301")
	w.wang = add(w.HA, "王建国", "13900000001", access.Owner)
	w.granny = add(w.HA, "王奶奶", "", access.Family)
	w.tenant = add(w.HA, "孙租客", "13900000005", access.Tenant)
	w.li = add(w.HB, "李秀英", "13900000002", access.Owner)
	w.zhao = add(w.HC, "赵小明", "13900000003", access.Owner)
	// li lives in two flats of X: she is greeted once all the same.
	_, err = w.hh.AddMember(ctx, w.admin, household.AddMemberInput{HouseholdID: w.HC.ID, PersonID: w.li, Role: access.Family})
	must(err)
	w.chen = add(w.HY, "陈美兰", "13900000004", access.Owner)
	birthday(w.granny, archive.Birthday{Calendar: archive.Solar, Year: year(1950), Month: 2, Day: 3})
	birthday(w.li, archive.Birthday{Calendar: archive.Solar, Year: year(1970), Month: 3, Day: 8})
	birthday(w.zhao, archive.Birthday{Calendar: archive.Lunar, Year: year(1960), Month: 8, Day: 15})
	w.xPersons = []string{w.wang, w.granny, w.tenant, w.li, w.zhao}
	w.xb1Persons = []string{w.wang, w.granny, w.tenant, w.li}
	w.elders = []string{w.granny, w.zhao}
	w.ownerWang, err = w.hh.Caller(ctx, w.wang, "")
	must(err)
	return w
}

func (w *world) newService(db *mongo.DB) *Service {
	return NewService(Config{
		DB: db, Communities: w.comms, Members: w.hh, Profiles: w.arch,
		Sender: notify.NewEngine(notify.EngineConfig{DB: db, Channels: []string{notify.ChannelFCM}, Now: w.clock.Now}),
		Zones:  func(string) *time.Location { return shanghai }, Now: w.clock.Now,
	})
}

// secondServer is another process: its own connection to the same database.
func (w *world) secondServer() *Service {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := mongo.Connect(ctx, mongo.TestURI(w.t), w.db.Name(), mongo.Options{})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { _ = db.Close(context.Background()) })
	return w.newService(db)
}

func (w *world) tick(s *Service, now time.Time) {
	w.t.Helper()
	w.clock.Set(now)
	if err := s.Tick(w.ctx, now); err != nil {
		w.t.Fatalf("tick at %v: %v", now, err)
	}
}

// inbox maps recipients to how many notifications they have with key.
func (w *world) inbox(key string) map[string]int {
	w.t.Helper()
	cur, err := w.db.Collection("notifications").Find(w.ctx, bson.D{{Key: "key", Value: key}})
	if err != nil {
		w.t.Fatal(err)
	}
	var list []notify.Notification
	if err := cur.All(w.ctx, &list); err != nil {
		w.t.Fatal(err)
	}
	out := map[string]int{}
	for _, n := range list {
		out[n.RecipientID]++
	}
	return out
}

func (w *world) count(filter bson.D) int64 {
	w.t.Helper()
	n, err := w.db.Collection("notifications").CountDocuments(w.ctx, filter)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// exactlyOnce asserts the key reached exactly want, once each.
func (w *world) exactlyOnce(key string, want []string) {
	w.t.Helper()
	got := w.inbox(key)
	for _, id := range want {
		if got[id] != 1 {
			w.t.Errorf("%s: person %s has %d messages, want 1", key, id, got[id])
		}
		delete(got, id)
	}
	for id, n := range got {
		w.t.Errorf("%s: person %s has %d messages, want none", key, id, n)
	}
}

func festivalKey(communityID, key, date string) string {
	return "festival:" + communityID + ":" + key + ":" + date
}

func TestMidAutumnOncePerRecipientAcrossServers(t *testing.T) {
	w := newWorld(t)
	key := festivalKey(w.X.ID, festival.KeyMidAutumn, "2026-09-25")
	w.tick(w.svc, at(2026, 9, 25, 8, 59))
	if n := w.count(bson.D{}); n != 0 {
		t.Fatalf("at 08:59: %d notifications, want none", n)
	}
	// Two servers (two connections) tick at once, and again.
	other := w.secondServer()
	w.clock.Set(at(2026, 9, 25, 9, 0))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, s := range []*Service{w.svc, other, other, w.svc} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Tick(w.ctx, at(2026, 9, 25, 9, 0))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	w.tick(w.svc, at(2026, 9, 25, 9, 1))
	w.tick(other, at(2026, 9, 25, 9, 30))
	w.exactlyOnce(key, w.xPersons)
	w.exactlyOnce(festivalKey(w.Y.ID, festival.KeyMidAutumn, "2026-09-25"), []string{w.chen})
	r, err := w.svc.runByID(w.ctx, key)
	if err != nil || r == nil || r.FinishedAt == nil || r.Recipients != len(w.xPersons) || r.Attempts != 1 {
		t.Fatalf("run: %+v, %v; want finished once for %d recipients", r, err, len(w.xPersons))
	}
	// The text: the festival's greeting without a name, in the inbox title.
	var n notify.Notification
	if err := w.db.Collection("notifications").FindOne(w.ctx, bson.D{{Key: "key", Value: key}}).Decode(&n); err != nil {
		t.Fatal(err)
	}
	if n.Title != "中秋节快乐" || !strings.HasPrefix(n.Body, "您好！月圆人团圆") || n.Kind != notify.FestivalGreeting {
		t.Fatalf("notification %q / %q", n.Title, n.Body)
	}
}

func TestAbandonedRunIsTakenOver(t *testing.T) {
	w := newWorld(t)
	now := at(2026, 9, 25, 9, 20)
	key := festivalKey(w.X.ID, festival.KeyMidAutumn, "2026-09-25")
	// A process started X's fan-out 11 minutes ago, reached one person, and died.
	died := now.Add(-11 * time.Minute).UTC()
	_, err := w.db.Collection("greeting_runs").InsertOne(w.ctx, run{ID: key, Kind: runFestival, CommunityID: w.X.ID,
		FestivalKey: festival.KeyMidAutumn, Date: "2026-09-25", StartedAt: died, HeartbeatAt: died, Owner: "dead", Attempts: 1})
	w.mustF(err)
	w.clock.Set(died)
	_, err = w.engine.Send(w.ctx, notify.Message{Kind: notify.FestivalGreeting, Key: key,
		Recipients: []notify.Recipient{{Kind: auth.KindPerson, ID: w.wang, CommunityID: w.X.ID}}, Vars: map[string]any{"festival": "中秋节"}})
	w.mustF(err)
	// Y's fan-out is under way in a live process (heartbeat 5 minutes ago).
	keyY := festivalKey(w.Y.ID, festival.KeyMidAutumn, "2026-09-25")
	alive := now.Add(-5 * time.Minute).UTC()
	_, err = w.db.Collection("greeting_runs").InsertOne(w.ctx, run{ID: keyY, Kind: runFestival, CommunityID: w.Y.ID,
		FestivalKey: festival.KeyMidAutumn, Date: "2026-09-25", StartedAt: alive, HeartbeatAt: alive, Owner: "alive", Attempts: 1})
	w.mustF(err)

	w.tick(w.svc, now)
	w.exactlyOnce(key, w.xPersons)
	r, _ := w.svc.runByID(w.ctx, key)
	if r == nil || r.FinishedAt == nil || r.Attempts != 2 {
		t.Fatalf("X run after take-over: %+v", r)
	}
	if got := w.inbox(keyY); len(got) != 0 {
		t.Fatalf("a live run was taken over: %v", got)
	}
	// Y's process dies too; 11 minutes after its last heartbeat a second
	// server finishes it, and nothing is sent twice.
	w.tick(w.secondServer(), alive.Add(11*time.Minute))
	w.exactlyOnce(keyY, []string{w.chen})
	w.tick(w.svc, alive.Add(30*time.Minute))
	w.exactlyOnce(key, w.xPersons)
	w.exactlyOnce(keyY, []string{w.chen})
}

func TestDoubleNinthReachesElders(t *testing.T) {
	w := newWorld(t)
	w.tick(w.svc, at(2026, 10, 18, 9, 0))
	w.exactlyOnce(festivalKey(w.X.ID, festival.KeyDoubleNinth, "2026-10-18"), w.elders)
	w.exactlyOnce(festivalKey(w.Y.ID, festival.KeyDoubleNinth, "2026-10-18"), nil)
}

func TestDisabledFestivalSendsNothing(t *testing.T) {
	w := newWorld(t)
	mid, _ := builtin(festival.KeyMidAutumn)
	mid.Enabled = false
	fs, err := w.svc.UpdateFestival(w.ctx, w.butlerX, w.X.ID, mid)
	w.mustF(err)
	for _, f := range fs {
		if f.Key == festival.KeyMidAutumn && f.Enabled {
			t.Fatal("mid-autumn still enabled")
		}
	}
	w.tick(w.svc, at(2026, 9, 25, 9, 0))
	w.tick(w.svc, at(2026, 9, 25, 20, 0))
	w.exactlyOnce(festivalKey(w.X.ID, festival.KeyMidAutumn, "2026-09-25"), nil)
	w.exactlyOnce(festivalKey(w.Y.ID, festival.KeyMidAutumn, "2026-09-25"), []string{w.chen}) // Y's settings are its own
	occ, err := w.svc.Calendar(w.ctx, w.engineerX, w.X.ID, 2026)
	w.mustF(err)
	for _, o := range occ {
		if o.Festival.Key == festival.KeyMidAutumn {
			t.Fatal("a disabled festival is on the calendar")
		}
	}
}

func TestLunarBirthdayGreetedOnce(t *testing.T) {
	w := newWorld(t)
	w.tick(w.svc, at(2026, 9, 24, 9, 0))
	w.tick(w.svc, at(2026, 9, 25, 8, 59))
	if n := w.count(bson.D{{Key: "kind", Value: notify.BirthdayGreeting}}); n != 0 {
		t.Fatalf("%d birthday greetings before the day's send time", n)
	}
	w.tick(w.svc, at(2026, 9, 25, 9, 0))
	w.tick(w.secondServer(), at(2026, 9, 25, 9, 5))
	w.tick(w.svc, at(2026, 9, 25, 18, 0))
	key := "birthday:" + w.zhao + ":2026-09-25"
	w.exactlyOnce(key, []string{w.zhao})
	if n := w.count(bson.D{{Key: "kind", Value: notify.BirthdayGreeting}}); n != 1 {
		t.Fatalf("%d birthday greetings, want only 赵小明's", n)
	}
	var n notify.Notification
	w.mustF(w.db.Collection("notifications").FindOne(w.ctx, bson.D{{Key: "key", Value: key}}).Decode(&n))
	if !strings.Contains(n.Body, "赵小明") {
		t.Fatalf("birthday greeting without the name: %q", n.Body)
	}
	// A solar birthday on its day.
	w.tick(w.svc, at(2027, 3, 8, 9, 0))
	w.exactlyOnce("birthday:"+w.li+":2027-03-08", []string{w.li})
}

func fieldOf(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Field
	}
	return ""
}

func TestUpdateFestivalValidates(t *testing.T) {
	w := newWorld(t)
	day := festival.Festival{Key: "custom:community-day", NameZH: "社区日", NameEN: "Community Day", Calendar: festival.Solar, Month: 5, Day: 20,
		Audience: festival.AudienceAll, Enabled: true, SendTime: "10:00",
		DefaultGreetingZH: "{{.Name}}好！社区日快乐！", DefaultGreetingEN: "Happy Community Day!"}
	fs, err := w.svc.UpdateFestival(w.ctx, w.supX, w.X.ID, day)
	w.mustF(err)
	if last := fs[len(fs)-1]; last.Key != day.Key || last != day {
		t.Fatalf("custom festival not stored as given: %+v", last)
	}
	bad := []struct {
		field string
		edit  func(*festival.Festival)
	}{
		{"festival.key", func(f *festival.Festival) { f.Key = "community-day" }},
		{"festival.key", func(f *festival.Festival) { f.Key = "custom:Bad Slug" }},
		{"festival.month", func(f *festival.Festival) { f.Month = 13 }},
		{"festival.day", func(f *festival.Festival) { f.Day = 31; f.Month = 4 }},
		{"festival.calendar", func(f *festival.Festival) { f.Calendar = "JULIAN" }},
		{"festival.nameZH", func(f *festival.Festival) { f.NameZH = " " }},
		{"festival.sendTime", func(f *festival.Festival) { f.SendTime = "25:00" }},
		{"festival.greetingZH", func(f *festival.Festival) { f.DefaultGreetingZH = "{{.Nme" }},
		{"festival.greetingEN", func(f *festival.Festival) { f.DefaultGreetingEN = strings.Repeat("a", 201) }},
		{"festival.audience", func(f *festival.Festival) { f.Audience = "KIDS" }},
	}
	for _, b := range bad {
		f := day
		b.edit(&f)
		_, err := w.svc.UpdateFestival(w.ctx, w.supX, w.X.ID, f)
		if apperr.CodeOf(err) != apperr.BadUserInput || fieldOf(err) != b.field {
			t.Errorf("%s: got %v (field %q)", b.field, err, fieldOf(err))
		}
	}
	// A built-in keeps its date and names; its send time and text change.
	mid := festival.Festival{Key: festival.KeyMidAutumn, Enabled: true, SendTime: "10:30", Month: 1, Day: 1, NameZH: "改名",
		DefaultGreetingZH: "{{.Name}}好！中秋快乐！"}
	_, err = w.svc.UpdateFestival(w.ctx, w.butlerX, w.X.ID, mid)
	w.mustF(err)
	occ, err := w.svc.Calendar(w.ctx, w.engineerX, w.X.ID, 2026)
	w.mustF(err)
	var seen int
	for _, o := range occ {
		switch o.Festival.Key {
		case festival.KeyMidAutumn:
			seen++
			if o.Date.Format(time.DateOnly) != "2026-09-25" || !o.SendAt.Equal(at(2026, 9, 25, 10, 30)) || o.Festival.NameZH != "中秋节" ||
				!strings.HasPrefix(o.Festival.DefaultGreetingEN, "Happy Mid-Autumn") {
				t.Errorf("mid-autumn after edit: %+v", o)
			}
		case day.Key:
			seen++
			if !o.SendAt.Equal(at(2026, 5, 20, 10, 0)) {
				t.Errorf("community day: %+v", o)
			}
		}
	}
	if seen != 2 {
		t.Fatalf("calendar has %d of the two edited festivals", seen)
	}
	w.tick(w.svc, at(2026, 9, 25, 10, 0))
	key := festivalKey(w.X.ID, festival.KeyMidAutumn, "2026-09-25")
	w.exactlyOnce(key, nil)
	w.tick(w.svc, at(2026, 9, 25, 10, 30))
	w.exactlyOnce(key, w.xPersons)
	// Custom festivals fire too.
	w.tick(w.svc, at(2027, 5, 20, 10, 0))
	w.exactlyOnce(festivalKey(w.X.ID, day.Key, "2027-05-20"), w.xPersons)
	if _, err := w.svc.Calendar(w.ctx, w.supX, w.X.ID, 1800); apperr.CodeOf(err) != apperr.BadUserInput {
		t.Fatalf("year 1800: %v", err)
	}
}

func TestPermissions(t *testing.T) {
	w := newWorld(t)
	mid, _ := builtin(festival.KeyMidAutumn)
	campaign := CampaignInput{CommunityID: w.X.ID, Title: "中秋问候", Text: "祝您中秋快乐"}
	cases := []struct {
		name string
		c    *access.Caller
		want apperr.Code
	}{
		{"owner of X", w.ownerWang, apperr.Forbidden},
		{"engineer of X", w.engineerX, apperr.Forbidden},
		{"supervisor of Y", w.supY, apperr.NotFound},
		{"anonymous", nil, apperr.Unauthenticated},
	}
	for _, tc := range cases {
		if _, err := w.svc.UpdateFestival(w.ctx, tc.c, w.X.ID, mid); apperr.CodeOf(err) != tc.want {
			t.Errorf("%s updates settings: %v, want %s", tc.name, err, tc.want)
		}
		if _, err := w.svc.SendCampaign(w.ctx, tc.c, campaign); apperr.CodeOf(err) != tc.want {
			t.Errorf("%s sends a campaign: %v, want %s", tc.name, err, tc.want)
		}
		if _, err := w.svc.Campaigns(w.ctx, tc.c, w.X.ID, page.Request{First: 10}); apperr.CodeOf(err) != tc.want {
			t.Errorf("%s lists campaigns: %v, want %s", tc.name, err, tc.want)
		}
	}
	// Reading the settings and calendar: any staff of the community.
	if _, err := w.svc.Settings(w.ctx, w.engineerX, w.X.ID); err != nil {
		t.Errorf("engineer of X reads settings: %v", err)
	}
	if _, err := w.svc.Calendar(w.ctx, w.supY, w.X.ID, 2026); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("supervisor of Y reads X's calendar: %v", err)
	}
	if _, err := w.svc.Settings(w.ctx, w.ownerWang, w.X.ID); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("owner reads settings: %v", err)
	}
	// Admins edit settings of communities that exist.
	if _, err := w.svc.UpdateFestival(w.ctx, w.admin, w.X.ID, mid); err != nil {
		t.Errorf("admin: %v", err)
	}
	if _, err := w.svc.UpdateFestival(w.ctx, w.admin, mongo.NewID(), mid); !errors.Is(err, community.ErrNotFound) {
		t.Errorf("admin, unknown community: %v", err)
	}
	// A sensitive care group needs a supervisor.
	hardship := campaign
	hardship.CareFlag = archive.Hardship
	if _, err := w.svc.SendCampaign(w.ctx, w.butlerX, hardship); !errors.Is(err, ErrSensitiveCampaign) {
		t.Errorf("butler to a hardship group: %v", err)
	}
	if _, err := w.svc.SendCampaign(w.ctx, w.supX, hardship); err != nil {
		t.Errorf("supervisor to a hardship group: %v", err)
	}
	if n := w.count(bson.D{}); n != 0 {
		t.Fatalf("%d notifications after refused requests and an empty care group", n)
	}
}

func TestCampaigns(t *testing.T) {
	w := newWorld(t)
	w.clock.Set(at(2026, 9, 20, 12, 0))
	x, err := w.svc.SendCampaign(w.ctx, w.butlerX, CampaignInput{CommunityID: w.X.ID, BuildingIDs: []string{w.XB1.ID},
		Title: "秋季问候", Text: "天气转凉，注意添衣保暖。", TextEN: "It is getting cooler; keep warm."})
	w.mustF(err)
	if x.Audience != AudienceBuildings || x.Recipients != len(w.xb1Persons) || x.CreatedBy != w.butlerX.ID || x.SentAt == nil {
		t.Fatalf("campaign %+v", x)
	}
	w.exactlyOnce("campaign:"+x.ID, w.xb1Persons)

	// A care group: households with an elderly person living alone.
	_, err = w.arch.UpdateProfile(w.ctx, w.supX, w.granny, archive.ProfileInput{Flags: &[]archive.Flag{archive.ElderlyAlone}})
	w.mustF(err)
	w.clock.Set(at(2026, 9, 20, 12, 5))
	y, err := w.svc.SendCampaign(w.ctx, w.supX, CampaignInput{CommunityID: w.X.ID, CareFlag: archive.ElderlyAlone, Title: "敬老问候", Text: "有需要随时联系管家。"})
	w.mustF(err)
	w.exactlyOnce("campaign:"+y.ID, []string{w.wang, w.granny, w.tenant})
	if y.Audience != AudienceCareGroup || y.Recipients != 3 {
		t.Fatalf("care group campaign %+v", y)
	}

	// Bad input.
	for _, tc := range []struct {
		in    CampaignInput
		field string
	}{
		{CampaignInput{CommunityID: w.X.ID, BuildingIDs: []string{w.YB1.ID}, Title: "t", Text: "x"}, "input.buildingIds"},
		{CampaignInput{CommunityID: w.X.ID, Title: "t", Text: strings.Repeat("好", 201)}, "input.text"},
		{CampaignInput{CommunityID: w.X.ID, Title: " ", Text: "x"}, "input.title"},
		{CampaignInput{CommunityID: w.X.ID, Title: "t", Text: "x", CareFlag: "LUCKY"}, "input.careFlag"},
		{CampaignInput{CommunityID: "nope", Title: "t", Text: "x"}, "communityId"},
	} {
		if _, err := w.svc.SendCampaign(w.ctx, w.supX, tc.in); fieldOf(err) != tc.field {
			t.Errorf("%s: %v", tc.field, err)
		}
	}

	// Newest first, paged.
	p, err := w.svc.Campaigns(w.ctx, w.butlerX, w.X.ID, page.Request{First: 1})
	w.mustF(err)
	if len(p.Items) != 1 || p.Items[0].ID != y.ID || !p.HasNext {
		t.Fatalf("first page %+v", p)
	}
	p, err = w.svc.Campaigns(w.ctx, w.butlerX, w.X.ID, page.Request{First: 1, After: p.Keys[0]})
	w.mustF(err)
	if len(p.Items) != 1 || p.Items[0].ID != x.ID || p.HasNext || p.Items[0].Recipients != 4 {
		t.Fatalf("second page %+v", p)
	}
	if p, err := w.svc.Campaigns(w.ctx, w.admin, w.Y.ID, page.Request{First: 10}); err != nil || len(p.Items) != 0 {
		t.Fatalf("Y's campaigns: %+v %v", p, err)
	}
}

// A campaign whose process died mid-fan-out is finished by a later Tick.
func TestAbandonedCampaignFinishedBySweep(t *testing.T) {
	w := newWorld(t)
	now := at(2026, 9, 20, 12, 0)
	w.clock.Set(now.Add(-time.Hour))
	x := &Campaign{ID: mongo.NewID(), CommunityID: w.X.ID, BuildingIDs: []string{}, Audience: AudienceCommunity, Title: "问候", Text: "您好",
		CreatedBy: "sup-x", CreatedAt: now.Add(-time.Hour).UTC(), SortKey: "1"}
	_, err := w.db.Collection("greeting_campaigns").InsertOne(w.ctx, x)
	w.mustF(err)
	_, err = w.db.Collection("greeting_runs").InsertOne(w.ctx, run{ID: "campaign:" + x.ID, Kind: runCampaign, CommunityID: w.X.ID, CampaignID: x.ID,
		StartedAt: now.Add(-time.Hour).UTC(), HeartbeatAt: now.Add(-time.Hour).UTC(), Owner: "dead", Attempts: 1})
	w.mustF(err)
	w.tick(w.svc, now)
	w.exactlyOnce("campaign:"+x.ID, w.xPersons)
	got, err := w.svc.campaign(w.ctx, x.ID)
	w.mustF(err)
	if got.Recipients != len(w.xPersons) || got.SentAt == nil {
		t.Fatalf("campaign after sweep: %+v", got)
	}
}
