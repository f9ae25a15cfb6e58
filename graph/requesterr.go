package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"qinqing/internal/platform/apperr"
)

// isRequestError tells gqlgen's own errors about the request as a whole
// (raised before any field runs, with no Go error inside) from errors of a
// field, where a bare gqlerror such as "must not be null" is our fault.
func isRequestError(ctx context.Context, err error) bool {
	var ge *gqlerror.Error
	return errors.As(err, &ge) && ge.Unwrap() == nil && graphql.GetFieldContext(ctx) == nil
}

// presentRequestError is the error presenter's answer for such errors. The
// gqlgen text may echo the body back, so it is not sent.
func presentRequestError(gqlErr *gqlerror.Error, lang apperr.Lang) {
	gqlErr.Message = apperr.Message(apperr.ErrBadRequest, lang)
	gqlErr.Extensions = map[string]any{"code": string(apperr.ErrBadRequest.Code)}
}

// codeTransportErrors gives a code to the errors gqlgen's transports write
// themselves, past the error presenter (a broken multipart form, a GET that
// cannot be decoded, an unsupported content type), so every error a client
// sees carries extensions.code.
func codeTransportErrors(w http.ResponseWriter, lang apperr.Lang, count ErrorCounter) http.ResponseWriter {
	return &codingWriter{ResponseWriter: w, lang: lang, count: count}
}

type codingWriter struct {
	http.ResponseWriter
	lang    apperr.Lang
	count   ErrorCounter
	written bool
}

// Write checks the first write only: gqlgen writes a whole JSON response in
// one call, and an error-only response starts with its errors.
func (w *codingWriter) Write(p []byte) (int, error) {
	if w.written || !bytes.HasPrefix(p, []byte(`{"errors":`)) {
		w.written = true
		return w.ResponseWriter.Write(p)
	}
	w.written = true
	var resp map[string]json.RawMessage
	var errs []map[string]any
	if json.Unmarshal(p, &resp) != nil || json.Unmarshal(resp["errors"], &errs) != nil {
		return w.ResponseWriter.Write(p)
	}
	changed := false
	for _, e := range errs {
		if ext, _ := e["extensions"].(map[string]any); ext["code"] != nil {
			continue
		}
		detail, _ := e["message"].(string)
		e["message"] = apperr.Message(apperr.ErrBadRequest, w.lang)
		e["extensions"] = map[string]any{"code": string(apperr.ErrBadRequest.Code), "detail": detail}
		if w.count != nil {
			w.count(apperr.ErrBadRequest.Code)
		}
		changed = true
	}
	if !changed {
		return w.ResponseWriter.Write(p)
	}
	resp["errors"], _ = json.Marshal(errs)
	out, err := json.Marshal(resp)
	if err != nil {
		return w.ResponseWriter.Write(p)
	}
	if _, err := w.ResponseWriter.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Unwrap lets http.ResponseController reach the connection (flushes,
// deadlines).
func (w *codingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
