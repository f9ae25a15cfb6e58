package freeservice

import (
	"bytes"
	"errors"
	"testing"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/page"
	"qinqing/internal/repair"
)

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)

func photo() files.Upload { return files.Upload{Filename: "p.png", Content: bytes.NewReader(png)} }

// Staff record each household's visit; a problem found becomes a repair
// request of the household, filed by staff, which its owner follows; the
// coverage report counts every household of the audience.
func TestVisitsProblemsAndCoverage(t *testing.T) {
	f := newFixture(t, "")
	x, slots := f.gasCheck(5)
	hd, _ := f.household(f.xb1)
	f.household(f.xb1) // not reached
	for _, b := range []struct {
		c *access.Caller
		h string
	}{{f.ownerA, f.ha.ID}, {f.ownerB, f.hb.ID}} {
		if _, err := f.svc.Book(f.ctx, b.c, x.ID, slots[0].ID, b.h); err != nil {
			t.Fatal(err)
		}
	}
	record := func(c *access.Caller, h string, result Status, note string) (*Visit, error) {
		return f.svc.Record(f.ctx, c, RecordInput{CampaignID: x.ID, HouseholdID: h, Result: result, Note: note,
			Photos: []files.Upload{photo()}, RepairCategory: "GAS", Urgency: repair.Urgent})
	}
	// Who may record: staff who go into homes, of the community.
	if _, err := record(f.security, f.ha.ID, Done, ""); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("security records: %v", err)
	}
	if _, err := record(f.supervisorY, f.ha.ID, Done, ""); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("staff of Y record: %v", err)
	}
	if _, err := record(f.ownerA, f.ha.ID, Done, ""); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("owner records: %v", err)
	}
	if _, err := record(f.engineer, f.hc.ID, Done, ""); apperr.CodeOf(err) != apperr.BadUserInput {
		t.Fatalf("recording a household of building 2: %v", err)
	}
	if _, err := record(f.engineer, f.ha.ID, ProblemFound, " "); apperr.CodeOf(err) != apperr.BadUserInput {
		t.Fatalf("problem without a description: %v", err)
	}

	// A: a problem. The repair request is the household's, filed by staff.
	v, err := record(f.engineer, f.ha.ID, ProblemFound, "灶具软管老化，有轻微漏气")
	f.must(err)
	if v.Status != ProblemFound || v.RepairRequestID == "" || len(v.Photos) != 1 || v.RecordedBy != f.engineer.ID {
		t.Fatalf("visit %+v", v)
	}
	r, err := f.repairs.Get(f.ctx, f.ownerA, v.RepairRequestID)
	f.must(err)
	if r.HouseholdID != f.ha.ID || r.FiledByStaffID != f.engineer.ID || r.ReporterID != "" || r.Category != "GAS" ||
		r.Urgency != repair.Urgent || r.Status != repair.Submitted || r.Source == "" || len(r.Photos) != 1 ||
		r.Description != "燃气安全检查：灶具软管老化，有轻微漏气" {
		t.Fatalf("repair request %+v", r)
	}
	if _, err := f.repairs.Get(f.ctx, f.engineer, r.ID); err != nil {
		t.Fatalf("the engineer who filed it cannot follow it: %v", err)
	}
	if _, err := f.repairs.Get(f.ctx, f.ownerB, r.ID); !errors.Is(err, repair.ErrNotFound) {
		t.Fatalf("a neighbour sees the request: %v", err)
	}
	// The same source files nothing twice; it is a staff tool only.
	again, err := f.repairs.FileForHousehold(f.ctx, f.engineer, repair.FileInput{HouseholdID: f.ha.ID, Category: "GAS", Description: "x", Source: r.Source})
	if err != nil || again.ID != r.ID {
		t.Fatalf("retried filing: %v %v", again, err)
	}
	if _, err := f.repairs.FileForHousehold(f.ctx, f.ownerA, repair.FileInput{HouseholdID: f.ha.ID, Category: "GAS", Description: "x", Source: "s"}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("an owner files on behalf: %v", err)
	}
	if _, err := f.repairs.FileForHousehold(f.ctx, f.supervisorY, repair.FileInput{HouseholdID: f.ha.ID, Category: "GAS", Description: "x", Source: "s"}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("staff of Y file for X: %v", err)
	}
	// A recorded problem is final for the cycle.
	if _, err := record(f.butler, f.ha.ID, Done, ""); !errors.Is(err, lifecycle.ErrIllegal) {
		t.Fatalf("recording over a problem: %v", err)
	}
	if _, err := f.svc.Book(f.ctx, f.ownerA, x.ID, slots[1].ID, f.ha.ID); !errors.Is(err, ErrAlreadyDone) {
		t.Fatalf("booking after the visit: %v", err)
	}
	// D was never booked and nobody was home; C is outside the audience.
	if v, err := record(f.butler, hd.ID, NotHome, "敲门无人应答"); err != nil || v.Status != NotHome || len(v.Photos) != 1 {
		t.Fatalf("not home: %+v %v", v, err)
	}

	// Coverage: A problem, B booked, D not home, E not reached; a page of 3
	// and the rest.
	cov, err := f.svc.Coverage(f.ctx, f.butler, x.ID, 0, pageOf(3))
	f.must(err)
	want := map[Status]int{ProblemFound: 1, Booked: 1, NotHome: 1, Done: 0, NotReached: 1}
	for st, n := range want {
		if cov.Counts[st] != n {
			t.Errorf("%s: %d, want %d (%v)", st, cov.Counts[st], n, cov.Counts)
		}
	}
	if cov.Total != 4 || len(cov.Page.Items) != 3 || !cov.Page.HasNext {
		t.Fatalf("coverage total %d, page %d (more: %v)", cov.Total, len(cov.Page.Items), cov.Page.HasNext)
	}
	rest, err := f.svc.Coverage(f.ctx, f.butler, x.ID, 0, page.Request{First: 3, After: cov.Page.Keys[2]})
	f.must(err)
	got := map[string]Status{}
	for _, e := range append(cov.Page.Items, rest.Page.Items...) {
		got[e.Household.ID] = e.Status
	}
	if len(got) != 4 || got[f.ha.ID] != ProblemFound || got[f.hb.ID] != Booked || got[hd.ID] != NotHome || rest.Page.HasNext {
		t.Fatalf("coverage by household %v", got)
	}
}
