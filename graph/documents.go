package graph

import (
	"errors"
	"net/http"
	"strings"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/pdf"
)

// CodeFontMissing is the error code of a document the server cannot render
// for want of a CJK font: an operator's problem, stable for clients to show.
const CodeFontMissing = "DOCUMENT_FONT_MISSING"

func init() {
	apperr.Register(map[string]apperr.Text{
		"document.font_missing": {ZH: "服务器暂时无法生成 PDF 文件：缺少中文字体，请管理员安装 fonts-droid-fallback 字体包（apt-get install fonts-droid-fallback）或设置 PDF_FONT",
			EN: "The server cannot make PDF files now: it has no Chinese font; an administrator must install the fonts-droid-fallback package or set PDF_FONT"},
	})
}

// DunningNoticeHandler serves GET /documents/dunning/{household}/{number}.pdf,
// a written notice rendered from its frozen snapshot. Authenticated like
// the finance reports (the bearer's token); the service decides who sees
// it (the case's staff, the household's owners) and everyone else gets 404,
// as for a notice that does not exist. Without a font: 503 with
// DOCUMENT_FONT_MISSING.
func DunningNoticeHandler(svc *Services, tokens *auth.Tokens) http.Handler {
	r := &Resolver{Svc: svc}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		lang := apperr.ParseAcceptLanguage(req.Header.Get("Accept-Language"))
		number, ok := strings.CutSuffix(req.PathValue("file"), ".pdf")
		if !ok || number == "" {
			http.NotFound(w, req)
			return
		}
		ctx, c, ok := bearerCaller(w, req, r, tokens, lang)
		if !ok {
			return
		}
		n, body, err := svc.Dunning.NoticePDF(ctx, c, req.PathValue("household"), number)
		switch {
		case errors.Is(err, pdf.ErrNoFont):
			writeCoded(w, http.StatusServiceUnavailable, CodeFontMissing, apperr.Message(apperr.New(apperr.Unavailable, "document.font_missing"), lang))
			return
		case err != nil:
			if ae, ok := apperr.As(err); ok && ae.Code != apperr.Internal && ae.Code != apperr.Unavailable {
				http.NotFound(w, req)
				return
			}
			writeCoded(w, http.StatusInternalServerError, string(apperr.Internal), apperr.Message(apperr.ErrInternal, lang))
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `inline; filename="notice-`+n.Number+`.pdf"`)
		w.Header().Set("Cache-Control", "private, no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(body)
	})
}

// writeCoded answers in the shape of a GraphQL error, so a client reads
// one kind of error body from every endpoint.
func writeCoded(w http.ResponseWriter, status int, code, msg string) {
	writeError(w, status, &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}})
}
