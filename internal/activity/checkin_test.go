package activity

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
)

// Check-in at the door: staff of the community scan a confirmed sign-up's
// code once; a second scan (also two at the same instant) is CONFLICT
// saying when; a waiting sign-up, an unknown code, staff of another
// community and residents are refused.
func TestCheckInOnce(t *testing.T) {
	f := newFixture(t)
	ev := f.event(3, 2)
	a, err := f.svc.SignUpFor(f.ctx, f.ownerA, ev.ID, f.ha.ID, 2)
	f.must(err)
	b, err := f.svc.SignUpFor(f.ctx, f.ownerB, ev.ID, f.hb.ID, 1)
	f.must(err)
	hw, ownerW := f.household(f.xb1)
	w, err := f.svc.SignUpFor(f.ctx, ownerW, ev.ID, hw.ID, 2)
	f.must(err)
	if w.Status != Waiting || CodeFor(ownerW, w) != "" || CodeFor(f.butler, a) != "" || CodeFor(f.ownerA, a) != a.CheckInCode {
		t.Fatalf("codes shown: waiting %q, to staff %q", CodeFor(ownerW, w), CodeFor(f.butler, a))
	}

	_, err = f.svc.CheckIn(f.ctx, f.security, ev.ID, a.CheckInCode)
	wantCode(t, "the day before", err, apperr.Conflict)
	f.set(at(28, 8, 45))
	_, err = f.svc.CheckIn(f.ctx, f.supervisorY, ev.ID, a.CheckInCode)
	wantCode(t, "staff of Y", err, apperr.NotFound)
	_, err = f.svc.CheckIn(f.ctx, f.ownerA, ev.ID, a.CheckInCode)
	wantCode(t, "the owner", err, apperr.Forbidden)
	_, err = f.svc.CheckIn(f.ctx, f.security, ev.ID, "ABCDEFGHJK")
	wantCode(t, "an unknown code", err, apperr.NotFound)
	_, err = f.svc.CheckIn(f.ctx, f.security, ev.ID, "abc")
	wantCode(t, "a malformed code", err, apperr.BadUserInput)
	_, err = f.svc.CheckIn(f.ctx, f.security, ev.ID, w.CheckInCode)
	wantCode(t, "a waiting sign-up", err, apperr.Conflict)

	// The QR code is read as typed or lower-cased.
	got, err := f.svc.CheckIn(f.ctx, f.security, ev.ID, strings.ToLower(a.CheckInCode))
	f.must(err)
	if got.CheckedInAt == nil || !got.CheckedInAt.Equal(at(28, 8, 45)) || got.CheckedInBy != f.security.ID {
		t.Fatalf("checked in %+v", got)
	}
	f.set(at(28, 9, 5))
	_, err = f.svc.CheckIn(f.ctx, f.butler, ev.ID, a.CheckInCode)
	if !errors.Is(err, ErrAlreadyCheckedIn) || !strings.Contains(apperr.Message(err.(*apperr.Error), apperr.ZH), "2026-11-28 08:45") {
		t.Fatalf("second scan: %v", err)
	}
	// Two doors scan B's code at the same instant: one wins.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { _, errs[i] = f.svc.CheckIn(f.ctx, f.security, ev.ID, b.CheckInCode) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrAlreadyCheckedIn):
			t.Errorf("concurrent scan: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d scans succeeded", ok)
	}
	// A household that came cannot cancel any more.
	_, err = f.svc.CancelSignUp(f.ctx, f.ownerA, ev.ID, f.ha.ID)
	wantCode(t, "cancelling after check-in", err, apperr.Conflict)
	f.set(at(28, 11, 0))
	_, err = f.svc.CheckIn(f.ctx, f.security, ev.ID, b.CheckInCode)
	wantCode(t, "after the end", err, apperr.Conflict)
}

// Feedback: after the event, only households that checked in, once each;
// attendance counts sign-ups, check-ins, no-shows, the waiting list and
// the ratings; AttendanceIn counts what the KPI needs.
func TestFeedbackAndAttendance(t *testing.T) {
	f := newFixture(t)
	ev := f.event(3, 2)
	family := f.member(f.ha, access.Family, "13800000031")
	a, err := f.svc.SignUpFor(f.ctx, f.ownerA, ev.ID, f.ha.ID, 2)
	f.must(err)
	_, err = f.svc.SignUpFor(f.ctx, f.ownerB, ev.ID, f.hb.ID, 1)
	f.must(err)
	hw, ownerW := f.household(f.xb1)
	_, err = f.svc.SignUpFor(f.ctx, ownerW, ev.ID, hw.ID, 1)
	f.must(err)
	f.set(at(28, 9, 0))
	_, err = f.svc.CheckIn(f.ctx, f.butler, ev.ID, a.CheckInCode)
	f.must(err)

	give := func(c *access.Caller, householdID string, rating int) error {
		_, err := f.svc.SubmitFeedback(f.ctx, c, FeedbackInput{EventID: ev.ID, HouseholdID: householdID, Rating: rating, Comment: "孩子很喜欢"})
		return err
	}
	wantCode(t, "during the event", give(f.ownerA, f.ha.ID, 5), apperr.Conflict)
	f.set(at(28, 11, 30))
	wantCode(t, "a rating of 6", give(f.ownerA, f.ha.ID, 6), apperr.BadUserInput)
	wantCode(t, "B did not come", give(f.ownerB, f.hb.ID, 4), apperr.Forbidden)
	wantCode(t, "W only waited", give(ownerW, hw.ID, 4), apperr.Forbidden)
	wantCode(t, "A for B", give(f.ownerA, f.hb.ID, 4), apperr.NotFound)
	f.must(give(family, f.ha.ID, 4))
	wantCode(t, "A's household again", give(f.ownerA, f.ha.ID, 5), apperr.Conflict)

	_, err = f.svc.Attendance(f.ctx, f.ownerA, ev.ID)
	wantCode(t, "attendance for an owner", err, apperr.Forbidden)
	_, err = f.svc.Attendance(f.ctx, f.supervisorY, ev.ID)
	wantCode(t, "attendance for staff of Y", err, apperr.NotFound)
	att, err := f.svc.Attendance(f.ctx, f.butler, ev.ID)
	f.must(err)
	if att.ConfirmedHouseholds != 2 || att.ConfirmedPeople != 3 || att.CheckedInHouseholds != 1 || att.CheckedInPeople != 2 ||
		att.NoShowHouseholds != 1 || att.NoShows[0].HouseholdID != f.hb.ID || att.WaitingHouseholds != 1 || att.WaitingList[0].Position != 1 ||
		att.FeedbackCount != 1 || att.MeanRating == nil || *att.MeanRating != 4 || att.Ratings[3].Count != 1 || att.Feedback[0].Comment != "孩子很喜欢" {
		t.Fatalf("attendance %+v", att)
	}
	attended, expected, err := f.svc.AttendanceIn(f.ctx, f.x.ID, at(28, 0, 0), at(29, 0, 0))
	f.must(err)
	if attended != 1 || expected != 2 {
		t.Fatalf("AttendanceIn: %d of %d", attended, expected)
	}
	// An event that ends at `to` is outside [from, to); a cancelled one never counts.
	if attended, expected, err = f.svc.AttendanceIn(f.ctx, f.x.ID, at(27, 0, 0), at(28, 11, 0)); err != nil || expected != 0 || attended != 0 {
		t.Fatalf("AttendanceIn before the end: %d of %d, %v", attended, expected, err)
	}
	if attended, expected, err = f.svc.AttendanceIn(f.ctx, f.y.ID, at(28, 0, 0), at(29, 0, 0)); err != nil || expected != 0 {
		t.Fatalf("AttendanceIn of Y: %d of %d, %v", attended, expected, err)
	}
}
