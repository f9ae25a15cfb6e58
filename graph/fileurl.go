package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"

	"qinqing/internal/access"
	"qinqing/internal/freeservice"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/repair"
)

// Every file URL the API returns is made here. A signed URL is a
// permission anyone holding it can use, so each field passes whether the
// caller may see the file by the same rule the file's domain applies to
// GET /files/{id} with a token (its MayReadFile), asked of the object the
// file belongs to, and not only whether the caller reached the field: a
// type can be reachable from more places than its files should be (a
// Person from a repair's reporter, a visit whose photos are a repair's).
// A caller who may not gets no URL: an empty list, or null.

// fileURLs signs the URLs of ids at size, or returns none when !may.
func (r *Resolver) fileURLs(ids []string, size *files.Variant, may bool) []string {
	if !may || len(ids) == 0 {
		return []string{}
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = r.signFile(id, size)
	}
	return out
}

// fileURL is fileURLs for one optional file.
func (r *Resolver) fileURL(id string, size *files.Variant, may bool) *string {
	if !may || id == "" {
		return nil
	}
	u := r.signFile(id, size)
	return &u
}

func (r *Resolver) signFile(id string, size *files.Variant) string {
	v := files.Original
	if size != nil {
		v = *size
	}
	if r.Svc.FileURLs == nil { // a tool without an HTTP server (seeding)
		if v == files.Original {
			return "/files/" + id
		}
		return "/files/" + id + "?v=" + string(v)
	}
	return r.Svc.FileURLs.URL(id, v)
}

// mayReadFilesOf answers for a file field of an object nested in its owner
// (a work order in a repair request): the owner is found among the results
// of the fields above, and the rule is asked of it. No owner above, no URL.
func mayReadFilesOf[T any](ctx context.Context, rule func(*access.Caller, T) bool) bool {
	c, err := caller(ctx)
	if err != nil {
		return false
	}
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		switch owner := fc.Result.(type) {
		case T:
			return rule(c, owner)
		case *T: // an item of a list: its context holds a pointer to it
			if owner != nil {
				return rule(c, *owner)
			}
		}
	}
	return false
}

// mayRead asks rule of obj for the caller in ctx.
func mayRead[T any](ctx context.Context, obj T, rule func(*access.Caller, T) bool) bool {
	c, err := caller(ctx)
	return err == nil && rule(c, obj)
}

// visitPhotos: a PROBLEM_FOUND visit's photos are its repair request's,
// shown to who may see that request, which is fewer than may see the
// visit (not every staff member of the community).
func (r *Resolver) visitPhotos(ctx context.Context, v *freeservice.Visit, size *files.Variant) ([]string, error) {
	if v.RepairRequestID == "" {
		return r.fileURLs(v.Photos, size, mayRead(ctx, v, freeservice.MayReadVisitFiles)), nil
	}
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	_, err = r.Svc.Repairs.Get(ctx, c, v.RepairRequestID)
	if errors.Is(err, repair.ErrNotFound) {
		return []string{}, nil
	}
	if err != nil {
		return nil, err
	}
	return r.fileURLs(v.Photos, size, true), nil
}

// signatureURL is non-null in the schema; an acceptance is only ever
// inside its request, so the refusal is for a future path that is not.
func (r *Resolver) signatureURL(ctx context.Context, a *repair.Acceptance, size *files.Variant) (string, error) {
	if !mayReadFilesOf(ctx, repair.MayReadFiles) {
		return "", apperr.ErrForbidden
	}
	return r.signFile(a.SignatureID, size), nil
}
