package graph

import (
	"context"
	"errors"
	"sync"

	"qinqing/internal/access"
	"qinqing/internal/announce"
	"qinqing/internal/archive"
	"qinqing/internal/community"
	"qinqing/internal/dunning"
	"qinqing/internal/enquiry"
	"qinqing/internal/facility"
	"qinqing/internal/household"
	"qinqing/internal/inspection"
	"qinqing/internal/mgmtreport"
	"qinqing/internal/repair"
	"qinqing/internal/staff"
	"qinqing/internal/survey"
	"qinqing/internal/vote"
)

// Loaders batch the lookups of one response: every field that needs a
// related document asks its loader, and each loader makes one $in query per
// batch; the response's batcher decides when a batch is complete.
type Loaders struct {
	Community           *Loader[string, *community.Community]
	Building            *Loader[string, *community.Building]
	BuildingsOf         *Loader[string, []*community.Building]
	Equipment           *Loader[string, *facility.Equipment]
	MaintenanceOrder    *Loader[string, *facility.Order]
	Household           *Loader[string, *household.Household]
	Person              *Loader[string, *household.Person]
	MembersOf           *Loader[string, []*household.Membership]
	MembershipsOfPerson *Loader[string, []*household.Membership]
	Profile             *Loader[string, *archive.Profile]
	HouseholdCare       *Loader[string, *archive.HouseholdCare]
	Staff               *Loader[string, *staff.Staff]
	FaqEntry            *Loader[string, *enquiry.FaqEntry]
	// MySurveyResponse is the caller's own response to each survey.
	MySurveyResponse *Loader[survey.ResponseKey, *survey.Response]
	// Audit records sensitive reads: one insert for all reads in a batch.
	Audit *Loader[archive.SensitiveRead, bool]
	// OpenDunning is each household's open arrears case, as the caller may
	// see it (the arrears list's last step).
	OpenDunning *Loader[string, *dunning.Case]
	// CorrectiveTask is each failed inspection item's task, as the caller may see it.
	CorrectiveTask *Loader[string, *inspection.Task]
	// Announcement and RepairRequest are what a page of incidents links,
	// as the caller may see them.
	Announcement  *Loader[string, *announce.Announcement]
	RepairRequest *Loader[string, *repair.Request]
	// MyVoteUnits is the caller's units in each vote of a page (vote.go).
	MyVoteUnits *Loader[vote.UnitsKey, []*vote.UnitStatus]
	// ReportComments are each management report version's comments, as
	// the caller may see them.
	ReportComments *Loader[string, []*mgmtreport.Comment]
}

// newLoaders makes one response's loaders; with m (a live event's memo)
// the caller-independent ones share what they fetch with the event's other
// responses (livememo.go).
func newLoaders(s *Services, b *batcher, m *fetchMemo) *Loaders {
	return &Loaders{
		Community:           newLoader(b, shared(m, "community", s.Communities.ByIDs)),
		Building:            newLoader(b, shared(m, "building", s.Communities.BuildingsByIDs)),
		BuildingsOf:         newLoader(b, shared(m, "buildingsOf", s.Communities.BuildingsByCommunities)),
		Equipment:           newLoader(b, shared(m, "equipment", s.Facilities.EquipmentByIDs)),
		MaintenanceOrder:    newLoader(b, shared(m, "maintenanceOrder", s.Facilities.OrdersByIDs)),
		Household:           newLoader(b, shared(m, "household", s.Households.ByIDs)),
		Person:              newLoader(b, shared(m, "person", s.Households.PersonsByIDs)),
		MembersOf:           newLoader(b, shared(m, "membersOf", s.Households.MembershipsByHouseholds)),
		MembershipsOfPerson: newLoader(b, shared(m, "membershipsOfPerson", s.Households.MembershipsByPersons)),
		Profile:             newLoader(b, shared(m, "profile", s.Archive.ProfilesByPersons)),
		HouseholdCare:       newLoader(b, shared(m, "householdCare", s.Archive.HouseholdCareByIDs)),
		Staff:               newLoader(b, shared(m, "staff", s.Staff.ByIDs)),
		FaqEntry:            newLoader(b, shared(m, "faqEntry", s.Enquiries.FaqByIDs)),
		MySurveyResponse: newLoader(b, func(ctx context.Context, keys []survey.ResponseKey) (map[survey.ResponseKey]*survey.Response, error) {
			c, err := access.Require(ctx)
			if err != nil {
				return nil, err
			}
			return s.Surveys.MyResponses(ctx, c, keys)
		}),
		OpenDunning: newLoader(b, func(ctx context.Context, ids []string) (map[string]*dunning.Case, error) {
			c, err := access.Require(ctx)
			if err != nil {
				return nil, err
			}
			return s.Dunning.OpenCasesFor(ctx, c, ids)
		}),
		CorrectiveTask: newLoader(b, func(ctx context.Context, ids []string) (map[string]*inspection.Task, error) {
			c, err := access.Require(ctx)
			if err != nil {
				return nil, err
			}
			return s.Inspections.TasksByIDs(ctx, c, ids)
		}),
		Announcement: newLoader(b, func(ctx context.Context, ids []string) (map[string]*announce.Announcement, error) {
			c, err := access.Require(ctx)
			if err != nil {
				return nil, err
			}
			return s.Announcements.VisibleByIDs(ctx, c, ids)
		}),
		RepairRequest: newLoader(b, func(ctx context.Context, ids []string) (map[string]*repair.Request, error) {
			c, err := access.Require(ctx)
			if err != nil {
				return nil, err
			}
			return s.Repairs.VisibleByIDs(ctx, c, ids)
		}),
		ReportComments: newLoader(b, func(ctx context.Context, ids []string) (map[string][]*mgmtreport.Comment, error) {
			c, err := access.Require(ctx)
			if err != nil {
				return nil, err
			}
			return s.MgmtReports.CommentsOf(ctx, c, ids)
		}),
		MyVoteUnits: newLoader(b, func(ctx context.Context, keys []vote.UnitsKey) (map[vote.UnitsKey][]*vote.UnitStatus, error) {
			c, err := access.Require(ctx)
			if err != nil {
				return nil, err
			}
			return s.Votes.MyUnitsOf(ctx, c, keys)
		}),
		// Every read is recorded, however often it repeats: no cache.
		Audit: newUncachedLoader(b, func(ctx context.Context, reads []archive.SensitiveRead) (map[archive.SensitiveRead]bool, error) {
			c, err := access.Require(ctx)
			if err == nil {
				err = s.Archive.RecordReads(ctx, c, reads)
			}
			if err != nil {
				return nil, err
			}
			ok := make(map[archive.SensitiveRead]bool, len(reads))
			for _, r := range reads {
				ok[r] = true
			}
			return ok, nil
		}),
	}
}

type loadersKey struct{}

// withLoaders gives a response its batcher and lazily created loaders, so
// nothing is cached across responses (a websocket's later events never see
// data cached by its earlier ones).
func withLoaders(ctx context.Context, s *Services, o batchOptions) context.Context {
	b := newBatcher(ctx, o)
	var once sync.Once
	var l *Loaders
	ctx = withBatcher(ctx, b)
	return context.WithValue(ctx, loadersKey{}, func() *Loaders {
		once.Do(func() {
			var m *fetchMemo
			if slot := liveSlotOf(ctx); slot != nil && o.memos != nil {
				if e := slot.current(); e != nil {
					m = o.memos.of(e)
				}
			}
			l = newLoaders(s, b, m)
		})
		return l
	})
}

func loaders(ctx context.Context) *Loaders {
	return ctx.Value(loadersKey{}).(func() *Loaders)()
}

// list loads a one-to-many relation; "no rows" is an empty list, not an error.
func list[T any](ctx context.Context, l *Loader[string, []T], key string) ([]T, error) {
	v, err := l.Load(ctx, key)
	if errors.Is(err, errNotFound) {
		return []T{}, nil
	}
	return v, err
}

// one loads a to-one relation whose absence is a broken reference.
func one[T any](ctx context.Context, l *Loader[string, *T], key string) (*T, error) {
	v, err := l.Load(ctx, key)
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	return v, err
}

// householdRefs are the households a person lives in, for archive rules.
func householdRefs(ctx context.Context, personID string) ([]access.HouseholdRef, error) {
	ms, err := list(ctx, loaders(ctx).MembershipsOfPerson, personID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.HouseholdID
	}
	hs, err := all(ctx, loaders(ctx).Household, ids)
	if err != nil {
		return nil, err
	}
	refs := make([]access.HouseholdRef, 0, len(hs))
	for _, h := range hs {
		if h != nil {
			refs = append(refs, h.Ref())
		}
	}
	return refs, nil
}

// all loads many to-one relations in one batch, skipping dangling references.
func all[T any](ctx context.Context, l *Loader[string, *T], keys []string) ([]*T, error) {
	thunks := make([]func() (*T, error), len(keys))
	for i, k := range keys {
		thunks[i] = l.LoadThunk(ctx, k)
	}
	out := make([]*T, 0, len(keys))
	for _, th := range thunks {
		v, err := th()
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if v != nil {
			out = append(out, v)
		}
	}
	return out, nil
}
