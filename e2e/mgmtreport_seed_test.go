package e2e

import (
	"context"
	"reflect"
	"testing"
	"time"

	"qinqing/internal/seed"
)

// The demo seed gives the first community a published quarter and a draft
// month, through the server's own services; seeding again adds nothing.
// The chair (the first owner the seed lists) reads both; an owner off the
// committee reads the published quarter only.
func TestSeedManagementReports(t *testing.T) {
	e := newEnv(t)
	e.Clock.Set(time.Date(2026, 12, 7, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	s := e.App.Services
	deps := seed.Deps{DB: e.DB, Communities: s.Communities, Households: s.Households, Archive: s.Archive, Staff: s.Staff,
		Now: e.Clock.Now, Committee: s.Committee, MgmtReports: s.MgmtReports}
	ctx := context.Background()
	first, err := seed.Run(ctx, deps, seed.Options{Households: 10})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int64 {
		n, err := e.DB.Collection("mgmt_reports").CountDocuments(ctx, map[string]any{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 2 || first.Counts["managementReports"] != 2 {
		t.Fatalf("%d reports, counts %v", n, first.Counts)
	}
	second, err := seed.Run(ctx, deps, seed.Options{Households: 10})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 || !reflect.DeepEqual(first, second) {
		t.Fatalf("seeding again: %d reports, %+v", n, second.Counts)
	}

	const list = `query($c:ID!){ managementReports(communityId:$c){ totalCount edges { node { period status version
		sections { section commentary } } } } }`
	type out struct {
		ManagementReports struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					Period, Status string
					Version        int
					Sections       []struct {
						Section    string
						Commentary *string
					}
				}
			}
		}
	}
	com := first.Communities[0].ID
	var chair, owner out
	e.owner(first.Owners[0].Phone).ok(list, map[string]any{"c": com}, &chair)
	got := chair.ManagementReports
	if got.TotalCount != 2 || got.Edges[0].Node.Period != "2026-11" || got.Edges[0].Node.Status != "DRAFT" ||
		got.Edges[1].Node.Period != "2026-Q3" || got.Edges[1].Node.Status != "PUBLISHED" || got.Edges[1].Node.Sections[0].Commentary == nil {
		t.Fatalf("the chair's reports: %+v", got)
	}
	// An owner of the first community off the committee.
	seats, err := s.Committee.Sitting(ctx, com)
	if err != nil {
		t.Fatal(err)
	}
	seated := map[string]bool{}
	for _, m := range seats {
		seated[m.PersonID] = true
	}
	var other string
	for _, o := range first.Owners {
		hs, err := s.Households.ByIDs(ctx, []string{o.HouseholdID})
		if err != nil {
			t.Fatal(err)
		}
		ms, err := s.Households.MembershipsByHouseholds(ctx, []string{o.HouseholdID})
		if err != nil {
			t.Fatal(err)
		}
		sits := false
		for _, m := range ms[o.HouseholdID] {
			sits = sits || seated[m.PersonID]
		}
		if hs[o.HouseholdID] != nil && hs[o.HouseholdID].CommunityID == com && !sits {
			other = o.Phone
			break
		}
	}
	if other == "" {
		t.Fatal("no owner of the first community off the committee")
	}
	e.owner(other).ok(list, map[string]any{"c": com}, &owner)
	if got := owner.ManagementReports; got.TotalCount != 1 || got.Edges[0].Node.Period != "2026-Q3" {
		t.Fatalf("an owner's reports: %+v", got)
	}
}
