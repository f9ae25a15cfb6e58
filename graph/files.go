package graph

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/files"
)

// FilesHandler serves GET /files/{id}: the bearer must be allowed to see what
// the file belongs to, by the owning domain's rule. Others get 404, exactly
// as for a file that does not exist.
func FilesHandler(svc *Services, tokens *auth.Tokens) http.Handler {
	r := &Resolver{Svc: svc}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		lang := apperr.ParseAcceptLanguage(req.Header.Get("Accept-Language"))
		tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		if !ok {
			writeUnauthenticated(w, lang)
			return
		}
		ctx, err := authenticate(req.Context(), r, tokens, strings.TrimSpace(tok))
		if err != nil {
			writeUnauthenticated(w, lang)
			return
		}
		c, err := caller(ctx)
		if err != nil {
			writeUnauthenticated(w, lang)
			return
		}
		f, body, err := svc.Files.Open(ctx, req.PathValue("id"))
		if errors.Is(err, files.ErrNotFound) {
			http.NotFound(w, req)
			return
		}
		if err != nil {
			http.Error(w, apperr.Message(apperr.ErrInternal, lang), http.StatusInternalServerError)
			return
		}
		defer body.Close()
		allowed, err := svc.mayReadFile(ctx, c, f.Meta)
		if err != nil {
			http.Error(w, apperr.Message(apperr.ErrInternal, lang), http.StatusInternalServerError)
			return
		}
		if !allowed {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", f.Meta.ContentType)
		w.Header().Set("Content-Length", strconv.FormatInt(f.Length, 10))
		// Private to the signed-in user; the id changes when the photo does.
		w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
		w.Header().Set("ETag", `"`+f.Meta.SHA256+`"`)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = io.Copy(w, body)
	})
}

// fileRule is a domain's answer to "may this caller see this file of yours?";
// each answers false for purposes it does not own.
type fileRule interface {
	MayReadFile(ctx context.Context, c *access.Caller, m files.Meta) (bool, error)
}

func (s *Services) mayReadFile(ctx context.Context, c *access.Caller, m files.Meta) (bool, error) {
	for _, rule := range []fileRule{s.Households, s.Repairs, s.Complaints, s.Announcements, s.Renovations, s.FreeServices, s.Activity} {
		if rule == nil {
			continue
		}
		ok, err := rule.MayReadFile(ctx, c, m)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}
