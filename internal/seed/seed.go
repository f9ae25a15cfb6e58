// Package seed creates the demo company: two communities with their
// buildings, households and residents, a family-care archive with birthdays,
// care flags and visits, and a staff account for every role.
//
// Everything is created through the domain services, so the demo data obeys
// the same rules as real data. The content is deterministic (no randomness
// beyond a PCG with a fixed seed) and Run is idempotent: it looks up what
// exists before creating anything, so a second run creates nothing and
// returns the same Result.
package seed

import (
	"context"
	"errors"
	"fmt"
	"qinqing/internal/catalog"
	"slices"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/committee"
	"qinqing/internal/community"
	"qinqing/internal/complaint"
	"qinqing/internal/dunning"
	"qinqing/internal/enquiry"
	"qinqing/internal/facility"
	"qinqing/internal/fee"
	"qinqing/internal/finance"
	"qinqing/internal/hotline"
	"qinqing/internal/household"
	"qinqing/internal/identity"
	"qinqing/internal/incident"
	"qinqing/internal/inspection"
	"qinqing/internal/mgmtreport"
	"qinqing/internal/outcome"
	"qinqing/internal/patrol"
	"qinqing/internal/payment"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/repair"
	"qinqing/internal/review"
	"qinqing/internal/staff"
	"qinqing/internal/survey"
	"qinqing/internal/vote"
)

const (
	// CompanyName names the demo company in the Result.
	CompanyName = "亲情物业（演示）"
	// DemoPassword is the password of every demo staff account.
	DemoPassword = "Qinqing2026"
	// DefaultHouseholds is the size of the demo when Options leave it unset.
	DefaultHouseholds = 200
	// MaxHouseholds bounds Options.Households (phone numbers carry a
	// 4-digit household index).
	MaxHouseholds = 5000
	// ownersListed is how many owners the Result names for logging in.
	ownersListed = 12
	// batch bounds the $in lists of look-ups.
	batch = 500
)

// Deps are the services the seed writes through.
type Deps struct {
	DB          *mongo.DB
	Communities *community.Service
	Households  *household.Service
	Archive     *archive.Service
	Staff       *staff.Service
	// Repairs and Complaints, when set, get demo requests at every stage.
	Repairs    *repair.Service
	Complaints *complaint.Service
	// Catalog, when set, gets each community's published price list.
	Catalog *catalog.Service
	// Calls, when set, gets a day of hotline calls (calls.go).
	Calls *hotline.Service
	// Enquiries, when set, gets each community's FAQ and demo enquiries.
	Enquiries *enquiry.Service
	// Inspections, when set with Clock (and built on Clock.Now), gets a
	// month of quality inspections in the first community (inspections.go).
	Inspections *inspection.Service
	// Fees, Payments, Dunning and Finance, when all set with Clock, get a
	// year of fees (fees.go). They stamp their own clock on what they
	// write, so they must be built with Clock.Now (and Now be Clock.Now).
	Fees     *fee.Service
	Payments *payment.Service
	Dunning  *dunning.Service
	Finance  *finance.Service
	// Patrols and Incidents, when set, get the first community's night
	// patrol with a missed checkpoint and two incidents.
	Patrols   *patrol.Service
	Incidents *incident.Service
	Clock     *Clock
	Now       func() time.Time
	// Facilities, when set, gets the first community's equipment, plans and
	// work orders (equipment.go).
	Facilities *facility.Service
	// Reviews, when set, gets last month's staff reviews (reviews.go).
	Reviews *review.Service
	// Outcomes, when set with Surveys, Complaints, Enquiries and Clock (all
	// built on Clock.Now), gets last month's published outcomes of the
	// first community, with the survey, complaints and enquiries behind
	// them (outcomes.go).
	Outcomes *outcome.Service
	Surveys  *survey.Service
	// Committee, when set, gets the first community's owners' committee
	// (committee.go).
	Committee *committee.Service
	// Votes, when set with Committee, gets the first community's owners'
	// votes, one counted and one open (votes.go).
	Votes *vote.Service
	// MgmtReports, when set, gets the first community's management
	// reports: a published quarter and a month's draft (mgmtreport.go).
	MgmtReports *mgmtreport.Service
	// Meetings, when set with Committee, gets a three-party meeting of the
	// first community with two action items (meetings.go).
	Meetings *committee.Meetings
}

// Options size the demo.
type Options struct {
	Households int // default DefaultHouseholds
	// Fees replays a year of fees (fees.go) when Deps has the fee services.
	// Off by default: on the embedded database the fee services' guarded
	// updates scan the bills, so the year costs time growing with the
	// square of the households (about two minutes at 28, six at 56).
	Fees bool
}

// Result is what a demo user needs to log in and look around.
type Result struct {
	Company     string          `json:"company"`
	Communities []SeedCommunity `json:"communities"`
	Staff       []SeedStaff     `json:"staff"`
	Owners      []SeedOwner     `json:"owners"`
	// FeeCases are the households whose fees are worth a look: in arrears
	// at each step of the reminder ladder, or granted relief.
	FeeCases []SeedFeeCase  `json:"feeCases,omitempty"`
	Counts   map[string]int `json:"counts"`
}

// SeedFeeCase is a household with a fee story, and its owner's phone.
type SeedFeeCase struct {
	SeedOwner
	Situation string `json:"situation"`
}

// SeedCommunity is one demo community.
type SeedCommunity struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SeedStaff is one demo staff account.
type SeedStaff struct {
	ID           string   `json:"id"`
	Account      string   `json:"account"`
	Password     string   `json:"password"`
	Name         string   `json:"name"`
	Roles        []string `json:"roles"`
	CommunityIDs []string `json:"communityIds"`
}

// SeedOwner is an owner who can log in with their phone.
type SeedOwner struct {
	Phone       string `json:"phone"`
	Name        string `json:"name"`
	HouseholdID string `json:"householdId"`
	Label       string `json:"label"`
}

type seeder struct {
	d     Deps
	admin *access.Caller
	now   time.Time
	plans []*householdPlan

	communities []*community.Community
	buildings   [][]*community.Building // [community][building]
	households  []*household.Household  // per plan
	persons     [][]string              // person ids per plan member
	staff       []*staff.Staff
	butlers     [][]*staff.Staff // [community][butler1, butler2]
	supervisors []*staff.Staff   // per community
	counts      map[string]int
	feeCases    []SeedFeeCase
}

// Run creates whatever of the demo company is missing and describes it.
func Run(ctx context.Context, d Deps, opts Options) (*Result, error) {
	n := opts.Households
	if n <= 0 {
		n = DefaultHouseholds
	}
	if n > MaxHouseholds {
		return nil, fmt.Errorf("seed: at most %d households", MaxHouseholds)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if err := identity.CheckPassword("password", DemoPassword); err != nil {
		return nil, fmt.Errorf("seed: demo password: %w", err)
	}
	now := d.Now()
	s := &seeder{
		d:      d,
		admin:  &access.Caller{Kind: auth.KindStaff, ID: "seed", Roles: []access.Role{access.Admin}},
		now:    now,
		plans:  planHouseholds(n, now.Year()),
		counts: map[string]int{},
	}
	fees := opts.Fees
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"communities", s.ensureCommunities},
		{"buildings", s.ensureBuildings},
		{"households", s.ensureHouseholds},
		{"members", s.ensureMembers},
		{"staff", s.ensureStaff},
		{"care profiles", s.ensureProfiles},
		{"household care", s.ensureHouseholdCare},
		{"visits", s.ensureVisits},
		{"repair requests", s.ensureRepairs},
		{"public-area repair", s.ensurePublicRepair},
		{"repairs filed through the hotline", s.ensureHotlineRepairs},
		{"complaints", s.ensureComplaints},
		{"price list", s.ensureCatalog},
		{"hotline calls", s.ensureCalls},
		{"enquiries and FAQ", s.ensureEnquiries},
		{"equipment and maintenance", s.ensureEquipment},
		{"a month of quality inspections", s.ensureInspections},
		{"patrols", s.ensurePatrols},
		{"incidents", s.ensureIncidents},
		{"staff reviews and training", s.ensureReviews},
		{"last month's published outcomes", s.ensureOutcomes},
		{"owners' committee", s.ensureCommittee},
		{"a committee meeting", s.ensureMeetings},
		{"owners' votes", s.ensureVotes},
		{"a year of fees", func(ctx context.Context) error {
			if !fees {
				return nil
			}
			return s.ensureFees(ctx)
		}},
		{"management reports", s.ensureReports},
	}
	for _, st := range steps {
		if err := st.run(ctx); err != nil {
			return nil, fmt.Errorf("seed %s: %w", st.name, err)
		}
	}
	return s.result(), nil
}

func (s *seeder) ensureCommunities(ctx context.Context) error {
	byName := func() (map[string]*community.Community, error) {
		list, err := s.d.Communities.List(ctx, s.admin)
		if err != nil {
			return nil, err
		}
		m := make(map[string]*community.Community, len(list))
		for _, c := range list {
			m[c.Name] = c
		}
		return m, nil
	}
	existing, err := byName()
	if err != nil {
		return err
	}
	for _, cp := range communityPlans {
		c := existing[cp.Name]
		if c == nil {
			c, err = s.d.Communities.CreateCommunity(ctx, s.admin, community.CreateCommunityInput{Name: cp.Name, Address: cp.Address, TimeZone: community.DefaultTimeZone})
			if errors.Is(err, community.ErrNameTaken) { // created concurrently
				if existing, err = byName(); err == nil {
					c = existing[cp.Name]
				}
			}
			if err != nil {
				return err
			}
		}
		s.communities = append(s.communities, c)
	}
	s.counts["communities"] = len(s.communities)
	return nil
}

func (s *seeder) communityIDs() []string {
	ids := make([]string, len(s.communities))
	for i, c := range s.communities {
		ids[i] = c.ID
	}
	return ids
}

func (s *seeder) ensureBuildings(ctx context.Context) error {
	existing, err := s.d.Communities.BuildingsByCommunities(ctx, s.communityIDs())
	if err != nil {
		return err
	}
	s.buildings = make([][]*community.Building, len(s.communities))
	for ci, c := range s.communities {
		byName := map[string]*community.Building{}
		for _, b := range existing[c.ID] {
			byName[b.Name] = b
		}
		for _, name := range communityPlans[ci].Buildings {
			b := byName[name]
			if b == nil {
				b, err = s.d.Communities.CreateBuilding(ctx, s.admin, community.CreateBuildingInput{CommunityID: c.ID, Name: name, Units: buildingUnits})
				if err != nil {
					return err
				}
			}
			s.buildings[ci] = append(s.buildings[ci], b)
			s.counts["buildings"]++
		}
	}
	return nil
}

// ensureHouseholds lists each building's households once (a page of 100 at a
// time) and creates the missing ones.
func (s *seeder) ensureHouseholds(ctx context.Context) error {
	type bkey struct{ c, b int }
	used := map[bkey]bool{}
	for _, p := range s.plans {
		used[bkey{p.Community, p.Building}] = true
	}
	existing := map[string]map[string]*household.Household{} // building id -> unit|room
	for k := range used {
		b := s.buildings[k.c][k.b]
		m, err := s.listBuilding(ctx, b)
		if err != nil {
			return err
		}
		existing[b.ID] = m
	}
	s.households = make([]*household.Household, len(s.plans))
	for i, p := range s.plans {
		b := s.buildings[p.Community][p.Building]
		h := existing[b.ID][p.key()]
		if h == nil {
			area := p.FloorArea
			var err error
			h, err = s.d.Households.Create(ctx, s.admin, household.CreateInput{BuildingID: b.ID, Unit: p.Unit, Room: p.Room, FloorArea: &area, MoveInDate: p.MoveInDate})
			if errors.Is(err, household.ErrRoomTaken) { // created concurrently
				var m map[string]*household.Household
				if m, err = s.listBuilding(ctx, b); err == nil {
					existing[b.ID] = m
					if h = m[p.key()]; h == nil {
						err = fmt.Errorf("household %s %s: taken but not found", b.ID, p.key())
					}
				}
			}
			if err != nil {
				return err
			}
		}
		s.households[i] = h
		if p.Tenanted {
			s.counts["tenantHouseholds"]++
		}
	}
	s.counts["households"] = len(s.households)
	return nil
}

func (s *seeder) listBuilding(ctx context.Context, b *community.Building) (map[string]*household.Household, error) {
	out := map[string]*household.Household{}
	req := page.Request{First: page.MaxFirst}
	for {
		pg, err := s.d.Households.List(ctx, s.admin, household.Filter{CommunityID: b.CommunityID, BuildingID: b.ID}, req)
		if err != nil {
			return nil, err
		}
		for _, h := range pg.Items {
			out[h.Unit+"|"+h.Room] = h
		}
		if !pg.HasNext || len(pg.Keys) == 0 {
			return out, nil
		}
		req.After = pg.Keys[len(pg.Keys)-1]
	}
}

// ensureMembers adds the planned residents. Existing members are recognised
// by name within their household (names are unique per planned household),
// which also covers children and elders who have no phone.
func (s *seeder) ensureMembers(ctx context.Context) error {
	ids := make([]string, len(s.households))
	for i, h := range s.households {
		ids[i] = h.ID
	}
	members := map[string][]*household.Membership{}
	for c := range slices.Chunk(ids, batch) {
		m, err := s.d.Households.MembershipsByHouseholds(ctx, c)
		if err != nil {
			return err
		}
		for k, v := range m {
			members[k] = v
		}
	}
	var personIDs []string
	for _, list := range members {
		for _, m := range list {
			personIDs = append(personIDs, m.PersonID)
		}
	}
	persons := map[string]*household.Person{}
	for c := range slices.Chunk(personIDs, batch) {
		m, err := s.d.Households.PersonsByIDs(ctx, c)
		if err != nil {
			return err
		}
		for k, v := range m {
			persons[k] = v
		}
	}
	s.persons = make([][]string, len(s.plans))
	for i, p := range s.plans {
		h := s.households[i]
		byName := map[string]string{}
		for _, m := range members[h.ID] {
			if per := persons[m.PersonID]; per != nil {
				byName[per.Name] = per.ID
			}
		}
		s.persons[i] = make([]string, len(p.Members))
		for j, mp := range p.Members {
			id, ok := byName[mp.Name]
			if !ok {
				var err error
				if id, err = s.addMember(ctx, h, mp); err != nil {
					return fmt.Errorf("%s %s: %w", h.Label, mp.Name, err)
				}
			}
			s.persons[i][j] = id
			s.counts["persons"]++
			s.counts["memberships"]++
		}
	}
	return nil
}

func (s *seeder) addMember(ctx context.Context, h *household.Household, mp memberPlan) (string, error) {
	m, err := s.d.Households.AddMember(ctx, s.admin, household.AddMemberInput{
		HouseholdID: h.ID, Role: mp.Role,
		Person: &household.PersonInput{Name: mp.Name, Phone: mp.Phone, Gender: mp.Gender},
	})
	if err == nil {
		return m.PersonID, nil
	}
	// A person with this phone and name exists and is already a member:
	// done by an earlier run.
	if errors.Is(err, household.ErrAlreadyMember) && mp.Phone != "" {
		id, found, perr := s.d.Households.PersonByPhone(ctx, mp.Phone)
		if perr != nil {
			return "", perr
		}
		if found {
			return id, nil
		}
	}
	return "", err
}

type staffPlan struct {
	Account, Name string
	Roles         []access.Role
	Community     int   // -1: company-wide
	Buildings     []int // indexes into the community's buildings
}

func planStaff() []staffPlan {
	out := []staffPlan{{Account: "admin", Name: "周慧敏", Roles: []access.Role{access.Admin}, Community: -1}}
	names := [][]string{
		{"林晓燕", "陈志强", "王建军", "赵丽华", "孙国平", "刘桂芳", "许静", "钱淑贞", "唐明远", "冯建业"},
		{"黄婷婷", "吴俊杰", "郑海涛", "何秀兰", "马永刚", "朱春燕", "高雅琴", "韩立新", "曹文静", "邓国栋"},
	}
	for ci, cp := range communityPlans {
		var rest []int
		for b := butler1Buildings; b < len(cp.Buildings); b++ {
			rest = append(rest, b)
		}
		nm := names[ci]
		out = append(out,
			staffPlan{Account: cp.Slug + ".butler1", Name: nm[0], Roles: []access.Role{access.Butler}, Community: ci, Buildings: []int{0, 1}},
			staffPlan{Account: cp.Slug + ".butler2", Name: nm[1], Roles: []access.Role{access.Butler}, Community: ci, Buildings: rest},
			staffPlan{Account: cp.Slug + ".engineer", Name: nm[2], Roles: []access.Role{access.Engineer}, Community: ci},
			staffPlan{Account: cp.Slug + ".supervisor", Name: nm[3], Roles: []access.Role{access.Supervisor}, Community: ci},
			staffPlan{Account: cp.Slug + ".security", Name: nm[4], Roles: []access.Role{access.Security}, Community: ci},
			staffPlan{Account: cp.Slug + ".cleaner", Name: nm[5], Roles: []access.Role{access.Cleaner}, Community: ci},
			// The front desk and family hotline (客户服务中心/亲情电话).
			staffPlan{Account: cp.Slug + ".frontdesk", Name: nm[6], Roles: []access.Role{access.CustomerService}, Community: ci},
			// The finance clerk (财务): fees, payments, statements.
			staffPlan{Account: cp.Slug + ".finance", Name: nm[7], Roles: []access.Role{access.Finance}, Community: ci},
			// Running the estate: the quality inspector (品质专员) and the
			// security supervisor (秩序维护主管).
			staffPlan{Account: cp.Slug + ".inspector", Name: nm[8], Roles: []access.Role{access.Inspector}, Community: ci},
			staffPlan{Account: cp.Slug + ".security-lead", Name: nm[9], Roles: []access.Role{access.SecuritySupervisor}, Community: ci},
		)
	}
	return out
}

// ensureStaff upserts every account. Upsert sets the password hash only on
// insert, so a rerun keeps whatever password the account has by then; one
// hash serves every account since they share the demo password.
func (s *seeder) ensureStaff(ctx context.Context) error {
	hash, err := identity.HashPassword(DemoPassword)
	if err != nil {
		return err
	}
	s.butlers = make([][]*staff.Staff, len(s.communities))
	s.supervisors = make([]*staff.Staff, len(s.communities))
	for i, sp := range planStaff() {
		st := &staff.Staff{
			Account: sp.Account, Name: sp.Name, Phone: phone(135, i), PasswordHash: hash, Roles: sp.Roles,
			CommunityIDs: []string{}, BuildingIDs: []string{}, HouseholdIDs: []string{},
		}
		if sp.Community >= 0 {
			st.CommunityIDs = []string{s.communities[sp.Community].ID}
			for _, b := range sp.Buildings {
				st.BuildingIDs = append(st.BuildingIDs, s.buildings[sp.Community][b].ID)
			}
		}
		out, err := s.d.Staff.Upsert(ctx, st)
		if err != nil {
			return err
		}
		s.staff = append(s.staff, out)
		if sp.Community >= 0 {
			switch {
			case slices.Contains(sp.Roles, access.Butler):
				s.butlers[sp.Community] = append(s.butlers[sp.Community], out)
			case slices.Contains(sp.Roles, access.Supervisor):
				s.supervisors[sp.Community] = out
			}
		}
	}
	s.counts["staff"] = len(s.staff)
	return nil
}

// callerOf is a staff member acting as themselves.
func callerOf(st *staff.Staff) *access.Caller {
	return &access.Caller{
		Kind: auth.KindStaff, ID: st.ID, CompanyID: st.CompanyID, Roles: st.Roles,
		Communities: st.CommunityIDs, Buildings: st.BuildingIDs, Households: st.HouseholdIDs,
	}
}

// ensureProfiles writes care profiles as the community's supervisor, who may
// set health and hardship details. People who already have a profile are
// left alone, whatever has been edited since.
func (s *seeder) ensureProfiles(ctx context.Context) error {
	var ids []string
	for i, p := range s.plans {
		for j, m := range p.Members {
			if m.Profile != nil {
				ids = append(ids, s.persons[i][j])
			}
		}
	}
	existing := map[string]bool{}
	for c := range slices.Chunk(ids, batch) {
		m, err := s.d.Archive.ProfilesByPersons(ctx, c)
		if err != nil {
			return err
		}
		for id := range m {
			existing[id] = true
		}
	}
	for i, p := range s.plans {
		sup := callerOf(s.supervisors[p.Community])
		for j, m := range p.Members {
			if m.Profile == nil {
				continue
			}
			id := s.persons[i][j]
			if !existing[id] {
				if _, err := s.d.Archive.UpdateProfile(ctx, sup, id, *m.Profile); err != nil {
					return fmt.Errorf("%s %s: %w", s.households[i].Label, m.Name, err)
				}
				existing[id] = true
			}
			s.counts["careProfiles"]++
			if m.Profile.Flags != nil {
				for _, f := range *m.Profile.Flags {
					s.counts["flag."+string(f)]++
				}
			}
		}
	}
	return nil
}

func (s *seeder) ensureHouseholdCare(ctx context.Context) error {
	var ids []string
	for i, p := range s.plans {
		if p.Care != nil {
			ids = append(ids, s.households[i].ID)
		}
	}
	existing := map[string]bool{}
	for c := range slices.Chunk(ids, batch) {
		m, err := s.d.Archive.HouseholdCareByIDs(ctx, c)
		if err != nil {
			return err
		}
		for id := range m {
			existing[id] = true
		}
	}
	for i, p := range s.plans {
		if p.Care == nil {
			continue
		}
		h := s.households[i]
		if !existing[h.ID] {
			if _, err := s.d.Archive.UpdateHouseholdCare(ctx, callerOf(s.supervisors[p.Community]), h.ID, *p.Care); err != nil {
				return fmt.Errorf("%s: %w", h.Label, err)
			}
		}
		s.counts["householdCare"]++
	}
	return nil
}

// ensureVisits records the planned visits as the butler responsible for the
// household's building. A visit is known by its household and first topic;
// its dates are relative to the first run.
func (s *seeder) ensureVisits(ctx context.Context) error {
	existing := map[string]bool{}
	for _, c := range s.communities {
		req := page.Request{First: page.MaxFirst}
		for {
			// Visit notes are for care roles only (not admins): read them
			// as a supervisor of the community.
			sup := &access.Caller{Kind: auth.KindStaff, ID: "seed", Roles: []access.Role{access.Supervisor}, Communities: []string{c.ID}}
			pg, err := s.d.Archive.Visits(ctx, sup, archive.VisitFilter{CommunityID: c.ID}, req)
			if err != nil {
				return err
			}
			for _, v := range pg.Items {
				if len(v.Topics) > 0 {
					existing[v.HouseholdID+"|"+v.Topics[0]] = true
				}
			}
			if !pg.HasNext || len(pg.Keys) == 0 {
				break
			}
			req.After = pg.Keys[len(pg.Keys)-1]
		}
	}
	for i, p := range s.plans {
		h := s.households[i]
		for _, vp := range p.Visits {
			s.counts["visits"]++
			if vp.FollowUp != "" && !vp.Complete {
				s.counts["openFollowUps"]++
			}
			if existing[h.ID+"|"+vp.Topics[0]] {
				continue
			}
			butler := s.butlers[p.Community][min(p.Building/butler1Buildings, 1)]
			c := callerOf(butler)
			loc := s.communities[p.Community].Location()
			today := s.now.In(loc)
			visited := time.Date(today.Year(), today.Month(), today.Day()-vp.DaysAgo, 10, 0, 0, 0, loc)
			in := archive.RecordVisitInput{
				HouseholdID: h.ID, VisitedAt: visited, Topics: vp.Topics, Notes: vp.Notes, FollowUp: vp.FollowUp,
				Attendees: []string{p.Members[0].Name},
			}
			if vp.DueInDays != nil {
				in.FollowUpDue = today.AddDate(0, 0, *vp.DueInDays).Format(time.DateOnly)
			}
			v, err := s.d.Archive.RecordVisit(ctx, c, in)
			if err != nil {
				return fmt.Errorf("%s: %w", h.Label, err)
			}
			if vp.Complete {
				if _, err := s.d.Archive.CompleteFollowUp(ctx, c, v.ID); err != nil {
					return fmt.Errorf("%s: %w", h.Label, err)
				}
			}
			existing[h.ID+"|"+vp.Topics[0]] = true
		}
	}
	return nil
}

func (s *seeder) result() *Result {
	r := &Result{Company: CompanyName, Counts: s.counts, FeeCases: s.feeCases}
	for _, c := range s.communities {
		r.Communities = append(r.Communities, SeedCommunity{ID: c.ID, Name: c.Name})
	}
	for _, st := range s.staff {
		roles := make([]string, len(st.Roles))
		for i, ro := range st.Roles {
			roles[i] = string(ro)
		}
		r.Staff = append(r.Staff, SeedStaff{ID: st.ID, Account: st.Account, Password: DemoPassword, Name: st.Name, Roles: roles, CommunityIDs: st.CommunityIDs})
	}
	for i, p := range s.plans {
		if len(r.Owners) == ownersListed {
			break
		}
		o := p.Members[0] // the owner is always planned first
		h := s.households[i]
		r.Owners = append(r.Owners, SeedOwner{Phone: o.Phone, Name: o.Name, HouseholdID: h.ID, Label: s.communities[p.Community].Name + " " + h.Label})
	}
	return r
}
