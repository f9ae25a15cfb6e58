package graph

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/files"
)

// FilesHandler serves GET /files/{id}[?v=thumb] two ways.
//
// With exp and sig (the URLs the API issues, see fileurl.go): the signature
// is the permission, so an <image> tag or a mini program shows the file
// without a header. A bad, tampered or other file's or variant's signature
// is 403 FORBIDDEN reason FILE_URL_INVALID, an expired one 403 reason
// FILE_URL_EXPIRED (ask the API again); both are decided before the file
// is looked up, so they do not tell whether it exists.
//
// Without them, the bearer must be allowed to see what the file belongs
// to, by the owning domain's rule; others get 404 NOT_FOUND, exactly as
// for a file that does not exist.
func FilesHandler(svc *Services, tokens *auth.Tokens) http.Handler {
	r := &Resolver{Svc: svc}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		lang := apperr.ParseAcceptLanguage(req.Header.Get("Accept-Language"))
		id, q := req.PathValue("id"), req.URL.Query()
		v, known := files.ParseVariant(q.Get("v"))
		if q.Has("sig") || q.Has("exp") {
			serveSigned(w, req, svc, id, v, known, lang)
			return
		}
		ctx, c, ok := bearerCaller(w, req, r, tokens, lang)
		if !ok {
			return
		}
		if !known {
			writeFileError(w, http.StatusNotFound, files.ErrNotFound, "", lang)
			return
		}
		// The rule is asked of the original before any thumbnail is made,
		// so a caller who may not see a file cannot make the server decode it.
		f, body, err := svc.Files.Open(ctx, id)
		if errors.Is(err, files.ErrNotFound) {
			writeFileError(w, http.StatusNotFound, files.ErrNotFound, "", lang)
			return
		}
		if err != nil {
			writeFileError(w, http.StatusInternalServerError, apperr.ErrInternal, "", lang)
			return
		}
		allowed, err := svc.mayReadFile(ctx, c, f.Meta)
		if err != nil || !allowed {
			_ = body.Close()
			if err != nil {
				writeFileError(w, http.StatusInternalServerError, apperr.ErrInternal, "", lang)
			} else {
				writeFileError(w, http.StatusNotFound, files.ErrNotFound, "", lang)
			}
			return
		}
		if v != files.Original {
			_ = body.Close()
			if f, body, err = svc.Files.OpenVariant(ctx, id, v); err != nil {
				writeFileError(w, http.StatusInternalServerError, apperr.ErrInternal, "", lang)
				return
			}
		}
		// Private to the signed-in user; the id changes when the photo does.
		serveFile(w, f, body, "private, max-age=86400, immutable")
	})
}

func serveSigned(w http.ResponseWriter, req *http.Request, svc *Services, id string, v files.Variant, known bool, lang apperr.Lang) {
	q := req.URL.Query()
	err := files.ErrURLInvalid
	var left time.Duration
	if known && svc.FileURLs != nil {
		left, err = svc.FileURLs.Verify(id, v, q.Get("exp"), q.Get("sig"))
	}
	switch {
	case errors.Is(err, files.ErrURLExpired):
		writeFileError(w, http.StatusForbidden, errURLExpired, "FILE_URL_EXPIRED", lang)
		return
	case err != nil:
		writeFileError(w, http.StatusForbidden, errURLInvalid, "FILE_URL_INVALID", lang)
		return
	}
	f, body, err := svc.Files.OpenVariant(req.Context(), id, v)
	if errors.Is(err, files.ErrNotFound) { // removed since the URL was issued
		writeFileError(w, http.StatusNotFound, files.ErrNotFound, "", lang)
		return
	}
	if err != nil {
		writeFileError(w, http.StatusInternalServerError, apperr.ErrInternal, "", lang)
		return
	}
	// Cacheable until the URL expires, no longer: the permission ends then.
	serveFile(w, f, body, "private, max-age="+strconv.FormatInt(int64(left/time.Second), 10))
}

func serveFile(w http.ResponseWriter, f *files.File, body io.ReadCloser, cache string) {
	defer body.Close()
	h := w.Header()
	h.Set("Content-Type", f.Meta.ContentType)
	h.Set("Content-Length", strconv.FormatInt(f.Length, 10))
	h.Set("Cache-Control", cache)
	h.Set("ETag", `"`+f.Meta.SHA256+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	// Stored files are sniffed images; should one ever be opened as a
	// document, it runs nothing.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	_, _ = io.Copy(w, body)
}

var (
	errURLInvalid = apperr.New(apperr.Forbidden, "files.url_invalid")
	errURLExpired = apperr.New(apperr.Forbidden, "files.url_expired")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"files.url_invalid": {ZH: "文件链接无效", EN: "This file link is not valid"},
		"files.url_expired": {ZH: "文件链接已过期，请刷新后重试", EN: "This file link has expired; reload to get a new one"},
	})
}

// writeFileError answers in the API's error shape, so an app handles a
// refused image like a refused query.
func writeFileError(w http.ResponseWriter, status int, e *apperr.Error, reason string, lang apperr.Lang) {
	ext := map[string]string{"code": string(e.Code)}
	if reason != "" {
		ext["reason"] = reason
	}
	body, _ := json.Marshal(map[string]any{"errors": []map[string]any{{"message": apperr.Message(e, lang), "extensions": ext}}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// fileRule is a domain's answer to "may this caller see this file of yours?";
// each answers false for purposes it does not own.
type fileRule interface {
	MayReadFile(ctx context.Context, c *access.Caller, m files.Meta) (bool, error)
}

func (s *Services) mayReadFile(ctx context.Context, c *access.Caller, m files.Meta) (bool, error) {
	for _, rule := range []fileRule{s.Households, s.Repairs, s.Complaints, s.Announcements, s.Renovations, s.FreeServices, s.Activity, s.Inspections, s.Facilities} {
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
