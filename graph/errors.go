package graph

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"qinqing/internal/platform/apperr"
)

type langKey struct{}

// WithLang records the language the client asked for.
func WithLang(ctx context.Context, l apperr.Lang) context.Context {
	return context.WithValue(ctx, langKey{}, l)
}

// LangFrom is the request's language, Chinese by default.
func LangFrom(ctx context.Context) apperr.Lang {
	if l, ok := ctx.Value(langKey{}).(apperr.Lang); ok {
		return l
	}
	return apperr.ZH
}

// ErrorCounter is told the code of every error sent, for /metrics.
type ErrorCounter func(code apperr.Code)

// ErrorPresenter is the one place where errors become API errors: a domain
// *apperr.Error keeps its code, field and localized message; GraphQL
// validation errors are BAD_USER_INPUT; anything else is INTERNAL with a
// generic message, and the real error is logged, never sent.
func ErrorPresenter(log *slog.Logger, count ErrorCounter) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		lang := LangFrom(ctx)
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var ae *apperr.Error
		if apq, ok := presentAPQ(gqlErr.Message); ok && !errors.As(err, &ae) {
			err = apq
		}
		switch {
		case errors.As(err, &ae):
			gqlErr.Message = apperr.Message(ae, lang)
			gqlErr.Extensions = map[string]any{"code": string(ae.Code)}
			if ae.Field != "" {
				gqlErr.Extensions["field"] = ae.Field
			}
			if ae.Reason != "" {
				gqlErr.Extensions["reason"] = ae.Reason
			}
			if ae.Code == apperr.RateLimited {
				secs := ae.RetryAfterSeconds()
				gqlErr.Extensions["retryAfterSeconds"] = secs
				noteRetryAfter(ctx, secs)
			}
		case isUnreadableBody(gqlErr.Message):
			// gqlgen's transport could not read the body; its message quotes
			// the body (passwords, variables), so neither send nor log it.
			ae = apperr.ErrBadRequest
			gqlErr.Message = apperr.Message(ae, lang)
			gqlErr.Extensions = map[string]any{"code": string(ae.Code)}
		case gqlErr.Message == "introspection disabled":
			// Switched off by configuration: the client asked for something
			// this server does not offer, which is not a server fault.
			ae = apperr.New(apperr.Forbidden, "common.introspection_disabled")
			gqlErr.Message = apperr.Message(ae, lang)
			gqlErr.Extensions = map[string]any{"code": string(ae.Code)}
		case gqlErr.Extensions != nil && gqlErr.Extensions["code"] != nil:
			// gqlgen's own parse/validation errors: the query itself is wrong.
			code := apperr.BadUserInput
			if c, _ := gqlErr.Extensions["code"].(string); c == "GRAPHQL_PARSE_FAILED" || c == "GRAPHQL_VALIDATION_FAILED" {
				gqlErr.Extensions["code"] = string(apperr.BadUserInput)
				gqlErr.Extensions["reason"] = c
				localizeGraphQLError(gqlErr, c, lang)
			}
			ae = &apperr.Error{Code: code}
		case isRequestError(ctx, err):
			ae = apperr.ErrBadRequest
			presentRequestError(gqlErr, lang)
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			ae = apperr.ErrUnavailable
			gqlErr.Message = apperr.Message(ae, lang)
			gqlErr.Extensions = map[string]any{"code": string(ae.Code)}
		default:
			log.ErrorContext(ctx, "internal error", "err", err, "path", gqlErr.Path.String())
			ae = apperr.ErrInternal
			gqlErr.Message = apperr.Message(ae, lang)
			gqlErr.Extensions = map[string]any{"code": string(ae.Code)}
		}
		if count != nil {
			count(ae.Code)
		}
		return gqlErr
	}
}

// isUnreadableBody recognises gqlgen transport errors about a body it could
// not read or decode (the guard in limits.go normally answers these first).
func isUnreadableBody(msg string) bool {
	return strings.HasPrefix(msg, "json request body could not be decoded") ||
		strings.HasPrefix(msg, "could not read request body") ||
		strings.HasPrefix(msg, "could not get json request body")
}
