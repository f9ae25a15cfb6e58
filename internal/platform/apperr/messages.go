package apperr

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Lang is the language of messages shown to people.
type Lang string

const (
	ZH Lang = "zh"
	EN Lang = "en"
)

// ParseAcceptLanguage picks EN when the client prefers English to Chinese
// and Simplified Chinese otherwise: Chinese is the default for this product.
// Preference is the q weight (RFC 9110), then the order of the tags; q=0
// means "not this language".
func ParseAcceptLanguage(h string) Lang {
	best, bestQ := ZH, 0.0
	for _, part := range strings.Split(h, ",") {
		params := strings.Split(part, ";")
		tag := strings.ToLower(strings.TrimSpace(params[0]))
		var lang Lang
		switch {
		case strings.HasPrefix(tag, "en"):
			lang = EN
		case strings.HasPrefix(tag, "zh"):
			lang = ZH
		default:
			continue
		}
		q := 1.0
		for _, p := range params[1:] {
			if v, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(p)), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
					q = f
				}
			}
		}
		if q > bestQ {
			best, bestQ = lang, q
		}
	}
	return best
}

// Text is one message in both languages. Use %v-style verbs for Args.
type Text struct{ ZH, EN string }

var (
	mu       sync.RWMutex
	catalogs = map[string]Text{}
)

// Register adds a domain's messages. Called from package init functions;
// registering a key twice is a programming error.
func Register(texts map[string]Text) {
	mu.Lock()
	defer mu.Unlock()
	for k, t := range texts {
		if _, dup := catalogs[k]; dup {
			panic("apperr: message key registered twice: " + k)
		}
		catalogs[k] = t
	}
}

// Message renders e's message in lang: the sentence a person reads, with
// no field path in front (the path travels in extensions.field for the app
// to place the message by its field). An unknown key falls back to the
// generic message for its code so a client never sees a raw key.
//
// Many field messages are written as a predicate ("must be at most %d
// characters", "不能为空"); alone they get a neutral subject, "This field"
// or "此项", so each reads as a sentence.
func Message(e *Error, lang Lang) string {
	mu.RLock()
	t, ok := catalogs[e.Key]
	if !ok {
		t = catalogs["code."+string(e.Code)]
	}
	mu.RUnlock()
	s := t.ZH
	if lang == EN {
		s = t.EN
	}
	if len(e.Args) > 0 {
		s = fmt.Sprintf(s, e.Args...)
	}
	if e.Field == "" || s == "" {
		return s
	}
	if lang == EN {
		if first, _ := utf8.DecodeRuneInString(s); unicode.IsLower(first) {
			return "This field " + s
		}
		return s
	}
	for _, p := range zhPredicates {
		if strings.HasPrefix(s, p) {
			return "此项" + s
		}
	}
	return s
}

// zhPredicates begin Chinese field messages that have no subject of their own.
var zhPredicates = []string{"不能", "不可", "应", "须", "必须", "超出", "最多", "至少", "只能", "只支持"}

func init() {
	Register(map[string]Text{
		"code.UNAUTHENTICATED":          {"请先登录", "Please sign in"},
		"code.FORBIDDEN":                {"没有权限执行此操作", "You are not allowed to do this"},
		"code.NOT_FOUND":                {"未找到", "Not found"},
		"code.BAD_USER_INPUT":           {"输入有误", "Invalid input"},
		"code.CONFLICT":                 {"操作冲突", "Conflict"},
		"code.RATE_LIMITED":             {"操作太频繁，请稍后再试", "Too many requests, please try again later"},
		"code.UNAVAILABLE":              {"服务暂时不可用，请稍后再试", "Service temporarily unavailable, please try again later"},
		"code.INTERNAL":                 {"服务器内部错误", "Internal server error"},
		"common.unauthenticated":        {"请先登录", "Please sign in"},
		"common.forbidden":              {"没有权限执行此操作", "You are not allowed to do this"},
		"common.not_found":              {"未找到", "Not found"},
		"common.internal":               {"服务器内部错误", "Internal server error"},
		"common.unavailable":            {"服务暂时不可用，请稍后再试", "Service temporarily unavailable, please try again later"},
		"common.rate_limited":           {"操作太频繁，请稍后再试", "Too many requests, please try again later"},
		"common.introspection_disabled": {"此服务器未开放接口结构查询", "Introspection is disabled on this server"},
		"common.conflict":               {"数据已被修改，请刷新后重试", "The data changed meanwhile; reload and try again"},
		"common.bad_request":            {"请求格式不正确", "The request could not be read"},
		// Validation messages shared by all inputs.
		"input.required":     {"不能为空", "is required"},
		"input.too_long":     {"不能超过 %d 个字符", "must be at most %d characters"},
		"input.too_many":     {"不能超过 %d 项", "must have at most %d items"},
		"input.bad_phone":    {"手机号格式不正确", "is not a valid mainland China mobile number"},
		"input.bad_id":       {"ID 格式不正确", "is not a valid id"},
		"input.bad_cursor":   {"分页游标无效", "is not a valid cursor"},
		"input.out_of_range": {"超出允许范围（%v–%v）", "must be between %v and %v"},
		"input.bad_date":     {"日期无效，格式应为 YYYY-MM-DD", "is not a valid date (YYYY-MM-DD)"},
		"input.bad_time":     {"时间格式无效，应为带时区的 RFC 3339 格式", "is not an RFC 3339 time with offset"},
		"input.bad_value":    {"取值无效", "has an invalid value"},
	})
}
