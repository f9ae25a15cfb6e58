package graph

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/vikstrous/dataloadgen"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/staff"
	"qinqing/internal/survey"
)

// Loaders batch the lookups of one request: every field that needs a related
// document asks its loader, and each loader makes one $in query per batch.
type Loaders struct {
	Community           *dataloadgen.Loader[string, *community.Community]
	Building            *dataloadgen.Loader[string, *community.Building]
	BuildingsOf         *dataloadgen.Loader[string, []*community.Building]
	Household           *dataloadgen.Loader[string, *household.Household]
	Person              *dataloadgen.Loader[string, *household.Person]
	MembersOf           *dataloadgen.Loader[string, []*household.Membership]
	MembershipsOfPerson *dataloadgen.Loader[string, []*household.Membership]
	Profile             *dataloadgen.Loader[string, *archive.Profile]
	HouseholdCare       *dataloadgen.Loader[string, *archive.HouseholdCare]
	Staff               *dataloadgen.Loader[string, *staff.Staff]
	// MySurveyResponse is the caller's own response to each survey.
	MySurveyResponse *dataloadgen.Loader[survey.ResponseKey, *survey.Response]
	// Audit records sensitive reads: one insert for all reads in a batch.
	Audit *dataloadgen.Loader[archive.SensitiveRead, bool]
}

func newLoaders(s *Services) *Loaders {
	return &Loaders{
		Community:           dataloadgen.NewMappedLoader(s.Communities.ByIDs),
		Building:            dataloadgen.NewMappedLoader(s.Communities.BuildingsByIDs),
		BuildingsOf:         dataloadgen.NewMappedLoader(s.Communities.BuildingsByCommunities),
		Household:           dataloadgen.NewMappedLoader(s.Households.ByIDs),
		Person:              dataloadgen.NewMappedLoader(s.Households.PersonsByIDs),
		MembersOf:           dataloadgen.NewMappedLoader(s.Households.MembershipsByHouseholds),
		MembershipsOfPerson: dataloadgen.NewMappedLoader(s.Households.MembershipsByPersons),
		Profile:             dataloadgen.NewMappedLoader(s.Archive.ProfilesByPersons),
		HouseholdCare:       dataloadgen.NewMappedLoader(s.Archive.HouseholdCareByIDs),
		Staff:               dataloadgen.NewMappedLoader(s.Staff.ByIDs),
		MySurveyResponse: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []survey.ResponseKey) (map[survey.ResponseKey]*survey.Response, error) {
			c, err := access.Require(ctx)
			if err != nil {
				return nil, err
			}
			return s.Surveys.MyResponses(ctx, c, keys)
		}),
		Audit: dataloadgen.NewLoader(func(ctx context.Context, reads []archive.SensitiveRead) ([]bool, []error) {
			oks := make([]bool, len(reads))
			errs := make([]error, len(reads))
			c, err := access.Require(ctx)
			if err == nil {
				err = s.Archive.RecordReads(ctx, c, reads)
			}
			for i := range reads {
				oks[i], errs[i] = err == nil, err
			}
			return oks, errs
		}, dataloadgen.WithoutCache()),
	}
}

type loadersKey struct{}

// LoaderMiddleware gives each HTTP request (and each websocket connection's
// operations) fresh loaders, so nothing is cached across requests.
func LoaderMiddleware(s *Services, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(WithLoaders(r.Context(), s)))
	})
}

// WithLoaders attaches lazily created loaders to ctx.
func WithLoaders(ctx context.Context, s *Services) context.Context {
	var once sync.Once
	var l *Loaders
	return context.WithValue(ctx, loadersKey{}, func() *Loaders {
		once.Do(func() { l = newLoaders(s) })
		return l
	})
}

func loaders(ctx context.Context) *Loaders {
	return ctx.Value(loadersKey{}).(func() *Loaders)()
}

// list loads a one-to-many relation; "no rows" is an empty list, not an error.
func list[T any](ctx context.Context, l *dataloadgen.Loader[string, []T], key string) ([]T, error) {
	v, err := l.Load(ctx, key)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return []T{}, nil
	}
	return v, err
}

// one loads a to-one relation whose absence is a broken reference.
func one[T any](ctx context.Context, l *dataloadgen.Loader[string, *T], key string) (*T, error) {
	v, err := l.Load(ctx, key)
	if errors.Is(err, dataloadgen.ErrNotFound) {
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
func all[T any](ctx context.Context, l *dataloadgen.Loader[string, *T], keys []string) ([]*T, error) {
	vs, err := l.LoadAll(ctx, keys)
	var es dataloadgen.ErrorSlice
	if errors.As(err, &es) {
		for _, e := range es {
			if e != nil && !errors.Is(e, dataloadgen.ErrNotFound) {
				return nil, e
			}
		}
		err = nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]*T, 0, len(vs))
	for _, v := range vs {
		if v != nil {
			out = append(out, v)
		}
	}
	return out, nil
}
