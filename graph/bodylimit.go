// Request bodies: size, shape and read-time limits applied before gqlgen
// reads a request (see limits.go).

package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"qinqing/internal/platform/apperr"
)

type bodyReadKey struct{}

// guardBody enforces the body limits before gqlgen reads a request: a JSON
// body is read here (within MaxBodyBytes and BodyReadTimeout) and checked to
// be a GraphQL request, a multipart one is bounded by MaxUploadBytes. It
// answers refused requests itself (413, 400, 408, 415, all with a coded
// body) and returns false then. Websocket upgrades pass untouched: they
// have no body, and a read deadline would outlive the upgrade.
func guardBody(w http.ResponseWriter, r *http.Request, l Limits, present graphql.ErrorPresenterFunc) (*http.Request, http.ResponseWriter, bool) {
	if r.Method != http.MethodPost {
		return r, w, true
	}
	ctx := r.Context()
	refuse := func(status int, ae *apperr.Error) (*http.Request, http.ResponseWriter, bool) {
		writeError(w, status, present(ctx, limitError(ae)))
		return r, w, false
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(l.BodyReadTimeout))
	clear := func() { _ = rc.SetReadDeadline(time.Time{}) }
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		if r.ContentLength > l.MaxBodyBytes {
			return refuse(http.StatusRequestEntityTooLarge, ErrBodyTooLarge.WithArgs(l.MaxBodyBytes))
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, l.MaxBodyBytes+1))
		_ = r.Body.Close()
		switch {
		case err != nil:
			w.Header().Set("Connection", "close")
			return refuse(http.StatusRequestTimeout, ErrBodyTimeout)
		case int64(len(body)) > l.MaxBodyBytes:
			w.Header().Set("Connection", "close")
			return refuse(http.StatusRequestEntityTooLarge, ErrBodyTooLarge.WithArgs(l.MaxBodyBytes))
		}
		clear()
		// The shape gqlgen expects; anything else is the client's error,
		// answered here so the body is never quoted in a message or a log.
		var params struct {
			Query         string         `json:"query"`
			OperationName string         `json:"operationName"`
			Variables     map[string]any `json:"variables"`
			Extensions    map[string]any `json:"extensions"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&params); err != nil || dec.More() {
			if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '[' {
				return refuse(http.StatusBadRequest, ErrBatchUnsupported)
			}
			return refuse(http.StatusBadRequest, ErrMalformedBody)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		return r, w, true
	case "multipart/form-data":
		if r.ContentLength > l.MaxUploadBytes {
			w.Header().Set("Connection", "close")
			return refuse(http.StatusRequestEntityTooLarge, ErrBodyTooLarge.WithArgs(l.MaxUploadBytes))
		}
		// A body without a length is cut at the limit; gqlgen then answers
		// with an uncoded error, which oversize replaces with ours.
		ow := &oversizeWriter{ResponseWriter: w, ctx: ctx, present: present, max: l.MaxUploadBytes}
		r.Body = &countingBody{ReadCloser: r.Body, left: l.MaxUploadBytes, over: &ow.over}
		r = r.WithContext(context.WithValue(ctx, bodyReadKey{}, clear))
		return r, ow, true
	default:
		return refuse(http.StatusUnsupportedMediaType, ErrMediaType)
	}
}

func writeError(w http.ResponseWriter, status int, e *gqlerror.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorResponse(e))
}

// countingBody notes when a body runs past its limit.
type countingBody struct {
	io.ReadCloser
	left int64
	over *bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		*b.over = true
		return 0, errors.New("request body too large")
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		*b.over = true
		return n, errors.New("request body too large")
	}
	return n, err
}

// oversizeWriter answers 413 with a coded error instead of whatever gqlgen
// writes once the body ran past the limit.
type oversizeWriter struct {
	http.ResponseWriter
	ctx      context.Context
	present  graphql.ErrorPresenterFunc
	max      int64
	over     bool
	replaced bool
}

func (o *oversizeWriter) WriteHeader(status int) {
	if o.over {
		if !o.replaced {
			o.replaced = true
			o.ResponseWriter.Header().Set("Connection", "close")
			writeError(o.ResponseWriter, http.StatusRequestEntityTooLarge, o.present(o.ctx, limitError(ErrBodyTooLarge.WithArgs(o.max))))
		}
		return
	}
	o.ResponseWriter.WriteHeader(status)
}

func (o *oversizeWriter) Write(b []byte) (int, error) {
	if o.over {
		o.WriteHeader(http.StatusRequestEntityTooLarge)
		return len(b), nil
	}
	return o.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (o *oversizeWriter) Unwrap() http.ResponseWriter { return o.ResponseWriter }

// isUpgrade is a websocket handshake: a GET without a body. A POST that
// merely claims an upgrade still has its body checked.
func isUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}
