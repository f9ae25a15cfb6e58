package survey

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
)

// Members of one household answering at once, on a per-household survey,
// and one person answering through both their flats at once, on a
// per-person survey: each respondent ends with exactly one response, whose
// answers are one of those sent.
func TestOneResponsePerRespondentUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name    string
		per     Per
		callers []*access.Caller
		homes   []string
	}{
		{"household: owner and family of HA", PerHousehold, []*access.Caller{f.ownerA, f.familyA}, []string{f.ha.ID, f.ha.ID}},
		{"person: A's owner through HA and HC", PerPerson, []*access.Caller{f.ownerA, f.ownerA}, []string{f.ha.ID, f.hc.ID}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sv := f.published(f.input(tc.per, true))
			var wg sync.WaitGroup
			errs := make(chan error, 12)
			for i := 0; i < 12; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					k := i % len(tc.callers)
					_, err := f.svc.Submit(ctx, tc.callers[k], sv.ID, tc.homes[k], answers(i%3, 1+i%5, fmt.Sprintf("第%d份", i), 3, 4, 5, 2))
					errs <- err
				}(i)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			docs := f.responseDocs(sv.ID)
			if len(docs) != 1 {
				t.Fatalf("%d responses, want 1", len(docs))
			}
			mine, err := f.svc.MyResponse(ctx, tc.callers[0], sv.ID, tc.homes[0])
			f.must(err)
			if mine == nil || len(mine.Answers) != 5 || *mine.Answers[1].Rating < 1 {
				t.Fatalf("my response %+v", mine)
			}
		})
	}
}

// An answer can be changed while the survey is open (the latest counts);
// before it opens, after staff close it, and once its closing time has
// passed (before any scheduler ran), answers are refused. The scheduler
// then closes it at its closing time.
func TestChangeWhileOpenRefusedAfterClose(t *testing.T) {
	f := newFixture(t)
	in := f.input(PerHousehold, false)
	in.OpensAt = f.clock.Now().Add(time.Hour)
	sv := f.published(in)
	if _, err := f.svc.Submit(ctx, f.ownerB, sv.ID, f.hb.ID, answers(0, 5, "", 5, 5, 5, 5)); !errors.Is(err, ErrNotOpenYet) {
		t.Fatalf("before opening: %v", err)
	}
	f.clock.Advance(2 * time.Hour)
	_, err := f.svc.Submit(ctx, f.ownerB, sv.ID, f.hb.ID, answers(0, 2, "太吵", 5, 1, 5, 1))
	f.must(err)
	f.clock.Advance(time.Hour)
	changed, err := f.svc.Submit(ctx, f.ownerB, sv.ID, f.hb.ID, answers(2, 4, "好多了", 4, 4, 3, 5))
	f.must(err)
	if len(f.responseDocs(sv.ID)) != 1 || *changed.Answers[1].Rating != 4 || !changed.UpdatedAt.After(changed.SubmittedAt) {
		t.Fatalf("changed answer %+v", changed)
	}
	r, err := f.svc.Results(ctx, f.supervisor, sv.ID)
	f.must(err)
	if r.Responses != 1 || *r.Questions[1].MeanRating != 4 || r.Questions[0].Options[2].Count != 1 || r.Questions[2].Texts[0].Text != "好多了" {
		t.Fatalf("results count the latest answer only: %+v", r.Questions[1])
	}

	// Closed by staff: refused.
	_, err = f.svc.Close(ctx, f.supervisor, sv.ID)
	f.must(err)
	if _, err := f.svc.Submit(ctx, f.ownerB, sv.ID, f.hb.ID, answers(1, 1, "", 1, 1, 1, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	if _, err := f.svc.Close(ctx, f.supervisor, sv.ID); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("closing twice: %v", err)
	}

	// Past its closing time: refused at once; the scheduler closes it, once.
	sv2 := f.published(f.input(PerPerson, false))
	f.clock.Set(sv2.ClosesAt)
	if _, err := f.svc.Submit(ctx, f.ownerB, sv2.ID, f.hb.ID, answers(1, 1, "", 1, 1, 1, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("at closesAt: %v", err)
	}
	f.must(f.svc.Tick(ctx, f.clock.Now().Add(time.Minute)))
	f.must(f.svc.Tick(ctx, f.clock.Now().Add(2*time.Minute)))
	got, err := f.svc.Get(ctx, f.supervisor, sv2.ID)
	f.must(err)
	if got.Status != Closed || !got.ClosedAt.Equal(sv2.ClosesAt) || len(got.Timeline) != 3 {
		t.Fatalf("closed by the scheduler: %s %v %d", got.Status, got.ClosedAt, len(got.Timeline))
	}
}

// Answers are checked against the questions, naming the answer in error.
func TestAnswerValidationNamesTheField(t *testing.T) {
	f := newFixture(t)
	sv := f.published(f.input(PerHousehold, true))
	ok := answers(0, 3, "", 3, 3, 3, 3)
	mod := func(i int, fn func(*Answer)) []Answer {
		out := slices.Clone(ok)
		fn(&out[i])
		return out
	}
	cases := []struct {
		name, field string
		in          []Answer
	}{
		{"satisfaction out of range", "answers.2.satisfaction", mod(2, func(a *Answer) { a.Satisfaction = ip(6) })},
		{"importance missing", "answers.3.importance", mod(3, func(a *Answer) { a.Importance = nil })},
		{"two choices for a single choice", "answers.0.choices", mod(0, func(a *Answer) { a.Choices = []int{0, 1} })},
		{"choice not listed", "answers.0.choices", mod(0, func(a *Answer) { a.Choices = []int{3} })},
		{"rating zero", "answers.1.rating", mod(1, func(a *Answer) { a.Rating = ip(0) })},
		{"a rating on a choice question", "answers.0.rating", mod(0, func(a *Answer) { a.Rating = ip(3) })},
		{"unknown question", "answers.1.questionId", mod(1, func(a *Answer) { a.QuestionID = "q9" })},
		{"the same question twice", "answers.1.questionId", mod(1, func(a *Answer) { *a = ok[0] })},
		{"a required question left out", "answers", ok[:3]},
	}
	for _, tc := range cases {
		_, err := f.svc.Submit(ctx, f.ownerA, sv.ID, f.ha.ID, tc.in)
		ae, isApp := apperr.As(err)
		if !isApp || ae.Code != apperr.BadUserInput || ae.Field != tc.field {
			t.Errorf("%s: %v, want BAD_USER_INPUT on %s", tc.name, err, tc.field)
		}
	}
	if n := len(f.responseDocs(sv.ID)); n != 0 {
		t.Fatalf("invalid answers stored %d responses", n)
	}
}

// Who may do what: supervisors build; butlers and residents may not; staff
// of Y and residents outside the audience see nothing; drafts are staff's.
func TestSurveyPermissions(t *testing.T) {
	f := newFixture(t)
	in := f.input(PerHousehold, true)
	in.BuildingIDs = []string{f.b1.ID}
	if _, err := f.svc.Create(ctx, f.butler, in); !errors.Is(err, apperr.ErrForbidden) {
		t.Fatalf("butler creates: %v", err)
	}
	if _, err := f.svc.Create(ctx, f.ownerA, in); !errors.Is(err, apperr.ErrForbidden) {
		t.Fatalf("owner creates: %v", err)
	}
	if _, err := f.svc.Create(ctx, f.supY, in); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("supervisor of Y creates in X: %v", err)
	}
	draft, err := f.svc.Create(ctx, f.supervisor, in)
	f.must(err)
	if _, err := f.svc.Get(ctx, f.ownerA, draft.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("resident reads a draft: %v", err)
	}
	if _, err := f.svc.Publish(ctx, f.butler, draft.ID); !errors.Is(err, apperr.ErrForbidden) {
		t.Fatalf("butler publishes: %v", err)
	}
	sv, err := f.svc.Publish(ctx, f.supervisor, draft.ID)
	f.must(err)
	if sv.AudienceHouseholds != 2 || sv.AudiencePersons != 3 || sv.AudienceSize() != 2 {
		t.Fatalf("audience of building 1: %d households, %d persons", sv.AudienceHouseholds, sv.AudiencePersons)
	}
	// HC is in building 2: A's owner may answer for HA, not for HC.
	if _, err := f.svc.Submit(ctx, f.ownerA, sv.ID, f.hc.ID, answers(0, 3, "", 3, 3, 3, 3)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("answer for a flat outside the audience: %v", err)
	}
	if _, err := f.svc.Submit(ctx, f.ownerB, sv.ID, f.ha.ID, answers(0, 3, "", 3, 3, 3, 3)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("answer for a neighbour: %v", err)
	}
	for name, c := range map[string]*access.Caller{"resident of Y": f.ownerY, "supervisor of Y": f.supY} {
		if _, err := f.svc.Get(ctx, c, sv.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s reads: %v", name, err)
		}
	}
	if _, err := f.svc.Results(ctx, f.supY, sv.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("supervisor of Y reads results: %v", err)
	}
	if _, err := f.svc.Results(ctx, f.ownerA, sv.ID); !errors.Is(err, apperr.ErrForbidden) {
		t.Fatalf("owner reads results: %v", err)
	}
	if _, err := f.svc.Results(ctx, f.butler, sv.ID); err != nil {
		t.Fatalf("butler of X reads results: %v", err)
	}
	if _, err := f.svc.Submit(ctx, f.supervisor, sv.ID, f.ha.ID, answers(0, 3, "", 3, 3, 3, 3)); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("staff answers: %v", err)
	}
}
