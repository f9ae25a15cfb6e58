package survey

import (
	"testing"
	"time"

	"qinqing/internal/platform/page"
)

// The semi-annual template: every dimension once, an overall rating and an
// optional suggestion box; per household, anonymous, whole community; the
// half year named by the opening date in the community's zone.
func TestSemiAnnualTemplate(t *testing.T) {
	f := newFixture(t)
	// 2026-06-30 17:00 UTC is 1 July 01:00 in Shanghai: the second half.
	opens := time.Date(2026, 6, 30, 17, 0, 0, 0, time.UTC)
	sv, err := f.svc.CreateFromTemplate(ctx, f.supervisor, f.x.ID, SemiAnnual, opens, opens.Add(14*24*time.Hour))
	f.must(err)
	if sv.Title != "2026年下半年业主满意度调查" || sv.Template != SemiAnnual || !sv.Anonymous || sv.ResponsePer != PerHousehold ||
		len(sv.BuildingIDs) != 0 || sv.Status != Draft || sv.Intro == "" {
		t.Fatalf("template survey %+v", sv)
	}
	if len(sv.Questions) != len(Dimensions)+2 {
		t.Fatalf("%d questions", len(sv.Questions))
	}
	for i, d := range Dimensions {
		q := sv.Questions[i]
		if q.Type != DimensionQ || q.Dimension != d || !q.Required || q.ID != "q"+itoa(i+1) || q.Number != i+1 {
			t.Errorf("question %d: %+v", i+1, q)
		}
	}
	rating, text := sv.Questions[len(Dimensions)], sv.Questions[len(Dimensions)+1]
	if rating.Type != Rating || !rating.Required || text.Type != FreeText || text.Required {
		t.Fatalf("rating %+v, text %+v", rating, text)
	}
	if !sv.RemindAt.Equal(sv.ClosesAt.Add(-ReminderBefore)) {
		t.Fatalf("reminder at %v", sv.RemindAt)
	}
	h1, err := f.svc.CreateFromTemplate(ctx, f.supervisor, f.x.ID, SemiAnnual, opens.Add(-2*time.Hour), opens.Add(time.Hour)) // 30 June 23:00 in Shanghai
	f.must(err)
	if h1.Title != "2026年上半年业主满意度调查" {
		t.Fatalf("first half title %q", h1.Title)
	}
	if _, err := f.svc.CreateFromTemplate(ctx, f.butler, f.x.ID, SemiAnnual, opens, opens.Add(time.Hour)); err == nil {
		t.Fatal("a butler created a survey from the template")
	}
}

// Publishing invites every resident of the audience once (a person with two
// flats once); the reminder goes, once, only to those who have not
// answered; a resident's list shows what they answered.
func TestInvitationsAndReminder(t *testing.T) {
	f := newFixture(t)
	sv := f.published(f.input(PerHousehold, true))
	inv := "survey:" + sv.ID + ":invitation"
	if n := f.inboxCount(inv, ""); n != 3 || f.inboxCount(inv, f.ownerA.ID) != 1 || f.inboxCount(inv, f.ownerY.ID) != 0 {
		t.Fatalf("%d invitations", n)
	}
	if sv.AudienceHouseholds != 3 || sv.AudiencePersons != 3 || !sv.Invited {
		t.Fatalf("audience %d households %d persons", sv.AudienceHouseholds, sv.AudiencePersons)
	}
	// B answers for HB; A's family answers for HA (HC is A's owner's too).
	_, err := f.svc.Submit(ctx, f.ownerB, sv.ID, f.hb.ID, answers(0, 5, "", 5, 5, 5, 5))
	f.must(err)
	_, err = f.svc.Submit(ctx, f.familyA, sv.ID, f.ha.ID, answers(0, 5, "", 5, 5, 5, 5))
	f.must(err)
	list := func() []*Survey {
		pg, err := f.svc.List(ctx, f.ownerA, f.x.ID, "", page.Request{First: 10})
		f.must(err)
		return pg.Items
	}
	if l := list(); len(l) != 1 || *l[0].Answered {
		t.Fatalf("A's owner still has HC to answer: %+v", l)
	}
	f.must(f.svc.Tick(ctx, sv.RemindAt.Add(-time.Minute)))
	rem := "survey:" + sv.ID + ":reminder"
	if n := f.inboxCount(rem, ""); n != 0 {
		t.Fatalf("reminded early: %d", n)
	}
	f.clock.Set(sv.RemindAt)
	f.must(f.svc.Tick(ctx, sv.RemindAt))
	f.must(f.svc.Tick(ctx, sv.RemindAt.Add(time.Minute)))
	// HC has not answered: its owner (A's owner) is reminded, once; HA's
	// and HB's people are not.
	if f.inboxCount(rem, "") != 1 || f.inboxCount(rem, f.ownerA.ID) != 1 {
		t.Fatalf("reminders: %d", f.inboxCount(rem, ""))
	}
	_, err = f.svc.Submit(ctx, f.ownerA, sv.ID, f.hc.ID, answers(1, 4, "", 4, 4, 4, 4))
	f.must(err)
	if l := list(); !*l[0].Answered {
		t.Fatal("answered for both flats but not marked answered")
	}
	staff, err := f.svc.List(ctx, f.supervisor, f.x.ID, Published, page.Request{First: 10})
	f.must(err)
	if len(staff.Items) != 1 || *staff.Items[0].ResponseCount != 3 || staff.Items[0].Answered != nil {
		t.Fatalf("staff list %+v", staff.Items)
	}
	if _, err := f.svc.List(ctx, f.ownerY, f.x.ID, "", page.Request{First: 10}); err == nil {
		t.Fatal("a resident of Y listed X's surveys")
	}
}

// An anonymous survey stores answers and times only; a named one also the
// household and person.
func TestAnonymousResponsesStoreNoIdentity(t *testing.T) {
	f := newFixture(t)
	for _, anonymous := range []bool{true, false} {
		sv := f.published(f.input(PerHousehold, anonymous))
		_, err := f.svc.Submit(ctx, f.ownerB, sv.ID, f.hb.ID, answers(0, 5, "很好", 5, 5, 5, 5))
		f.must(err)
		doc := f.responseDocs(sv.ID)[0]
		_, hasHousehold := doc["householdId"]
		_, hasPerson := doc["personId"]
		if hasHousehold == anonymous || hasPerson == anonymous {
			t.Fatalf("anonymous=%v stored %v", anonymous, doc)
		}
		for _, v := range doc {
			if s, ok := v.(string); ok && anonymous && (s == f.hb.ID || s == f.ownerB.ID) {
				t.Fatalf("anonymous response holds an identity: %v", doc)
			}
		}
		r, err := f.svc.Results(ctx, f.supervisor, sv.ID)
		f.must(err)
		if got := r.Questions[2].Texts[0].HouseholdID; (got == "") != anonymous {
			t.Fatalf("anonymous=%v text answer names %q", anonymous, got)
		}
	}
}
