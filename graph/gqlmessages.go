package graph

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"qinqing/internal/platform/apperr"
)

// gqlparser writes its parse and validation errors in English. The common
// ones are translated here, keeping the names they quote (fields, types,
// arguments, variables) as they are; the rest get a general Chinese
// sentence. In Chinese the original English stays in extensions.detail for
// the developer who wrote the query.
var gqlTranslations = []struct {
	re *regexp.Regexp
	zh string
}{
	{regexp.MustCompile(`^Cannot query field "([^"]+)" on type "([^"]+)"\.`), `类型“$2”没有字段“$1”。`},
	{regexp.MustCompile(`^Unknown argument "([^"]+)" on field "([^"]+)"\.`), `字段“$2”没有参数“$1”。`},
	{regexp.MustCompile(`^Unknown argument "([^"]+)" on directive "([^"]+)"\.`), `指令“$2”没有参数“$1”。`},
	{regexp.MustCompile(`^Field "([^"]+)" argument "([^"]+)" of type "([^"]+)" is required, but it was not provided\.`), `字段“$1”缺少必填参数“$2”（类型 $3）。`},
	{regexp.MustCompile(`^Field "([^"]+)" of required type "([^"]+)" was not provided\.`), `缺少必填字段“$1”（类型 $2）。`},
	{regexp.MustCompile(`^Field "([^"]+)" is not defined by type "([^"]+)"\.`), `输入类型“$2”没有字段“$1”。`},
	{regexp.MustCompile(`^Field "([^"]+)" must be non-null\.`), `字段“$1”不能为 null。`},
	{regexp.MustCompile(`^Variable "([^"]+)" is not defined( by operation "[^"]*")?\.`), `变量“$1”未声明。`},
	{regexp.MustCompile(`^Variable "([^"]+)" is never used( in operation "[^"]*")?\.`), `变量“$1”已声明但未使用。`},
	{regexp.MustCompile(`^Variable "([^"]+)" of type "([^"]+)" used in position expecting type "([^"]+)"\.`), `变量“$1”的类型 $2 与此处要求的类型 $3 不符。`},
	{regexp.MustCompile(`^Unknown type "([^"]+)"\.`), `未知类型“$1”。`},
	{regexp.MustCompile(`^Unknown directive "([^"]+)"\.`), `未知指令“$1”。`},
	{regexp.MustCompile(`^Unknown fragment "([^"]+)"\.`), `未定义的片段“$1”。`},
	{regexp.MustCompile(`^Fragment "([^"]+)" is never used\.`), `片段“$1”已定义但未使用。`},
	{regexp.MustCompile(`^Field "([^"]+)" of type "([^"]+)" must have a selection of subfields\.`), `字段“$1”（类型 $2）需要选择子字段。`},
	{regexp.MustCompile(`^Field "([^"]+)" must not have a selection since type "([^"]+)" has no subfields\.`), `字段“$1”的类型 $2 没有子字段，不能再选择。`},
	{regexp.MustCompile(`^Expected value of type "([^"]+)", found (.+)\.$`), `值 $2 不是“$1”类型。`},
	{regexp.MustCompile(`^Value "([^"]+)" does not exist in "([^"]+)" enum\.`), `枚举“$2”中没有值“$1”。`},
	{regexp.MustCompile(`^Enum "([^"]+)" cannot represent non-enum value: (.+)\.$`), `值 $2 不是枚举“$1”的取值。`},
	{regexp.MustCompile(`^(Int|Float|String|Boolean|ID) cannot represent [^:]*: (.+)$`), `值 $2 不能作为 $1 类型。`},
	{regexp.MustCompile(`^(?:Anonymous Subscription|Subscription "[^"]*") must select only one top level field\.`), `订阅只能选择一个根字段。`},
	{regexp.MustCompile(`^(?:Anonymous Subscription|Subscription "[^"]*") must not select an introspection top level field\.`), `订阅的根字段不能是内省字段。`},
	{regexp.MustCompile(`^(?:Anonymous Subscription|Subscription "[^"]*") must not use @skip or @include on its top level field\.`), `订阅的根字段不能使用 @skip 或 @include。`},
	{regexp.MustCompile(`^This anonymous operation must be the only defined operation\.`), `匿名操作必须是文档中唯一的操作。`},
	{regexp.MustCompile(`^There can be only one (?:argument|fragment|input field|operation|variable) named "([^"]+)"\.`), `名称“$1”重复。`},
	{regexp.MustCompile(`^operation (.*) not found$`), `找不到名为“$1”的操作。`},
}

// Variable coercion errors name the variable by their path, not the message.
var gqlVariableTranslations = []struct {
	re     *regexp.Regexp
	zh, en string
}{
	{regexp.MustCompile(`^must be defined$`), `必须提供变量“$$%s”。`, `Variable "$$%s" must be provided.`},
	{regexp.MustCompile(`^cannot be null$`), `变量“$$%s”不能为 null。`, `Variable "$$%s" cannot be null.`},
	{regexp.MustCompile(`^unknown field$`), `变量“$$%s”是未知字段。`, `Variable "$$%s" is not a known field.`},
	{regexp.MustCompile(`^(.+) is not a valid (.+)$`), `变量“$$%s”的值 $1 不是有效的 $2。`, `Variable "$$%s": $1 is not a valid $2.`},
	{regexp.MustCompile(`^cannot use (.+) as (.+)$`), `变量“$$%s”的值（$1）不能作为 $2 类型。`, `Variable "$$%s": a $1 cannot be used as $2.`},
	{regexp.MustCompile(`^must be a (.+), not a (.+)$`), `变量“$$%s”应为 $1，而不是 $2。`, `Variable "$$%s" must be a $1, not a $2.`},
}

// zhSuggestion starts the Chinese "Did you mean ...?" (see withoutSuggestions).
const zhSuggestion = "是否指 "

// localizeGraphQLError rewrites a parse or validation error of the GraphQL
// layer for people; reason is GRAPHQL_PARSE_FAILED or _VALIDATION_FAILED.
func localizeGraphQLError(e *gqlerror.Error, reason string, lang apperr.Lang) {
	original := e.Message
	main, hint, _ := strings.Cut(original, " Did you mean ")
	main = strings.TrimSpace(main)
	if v, ok := variablePath(e.Path); ok {
		for _, t := range gqlVariableTranslations {
			if m := t.re.FindStringSubmatchIndex(main); m != nil {
				tmpl := t.zh
				if lang == apperr.EN {
					tmpl = t.en
				}
				tmpl = strings.ReplaceAll(tmpl, "%s", v)
				e.Message = string(t.re.ExpandString(nil, tmpl, main, m))
				e.Path = nil
				if lang == apperr.ZH {
					e.Extensions["detail"] = original
				}
				e.Extensions["field"] = "$" + v
				return
			}
		}
	}
	if lang == apperr.EN {
		return
	}
	zh := ""
	for _, t := range gqlTranslations {
		if m := t.re.FindStringSubmatchIndex(main); m != nil {
			zh = string(t.re.ExpandString(nil, t.zh, main, m))
			break
		}
	}
	if zh == "" {
		zh = "查询语句不符合接口定义，请检查字段、参数和变量。"
		if reason == "GRAPHQL_PARSE_FAILED" {
			zh = "查询语句有语法错误，无法解析。"
		}
	}
	if hint = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(hint), "?")); hint != "" {
		zh += zhSuggestion + strings.ReplaceAll(hint, " or ", " 或 ") + "？"
	}
	e.Message = zh
	e.Extensions["detail"] = original
}

// variablePath names the variable of a coercion error ("input.name").
func variablePath(p ast.Path) (string, bool) {
	if len(p) < 2 {
		return "", false
	}
	if n, ok := p[0].(ast.PathName); !ok || n != "variable" {
		return "", false
	}
	var b strings.Builder
	for i, el := range p[1:] {
		switch v := el.(type) {
		case ast.PathName:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(string(v))
		case ast.PathIndex:
			b.WriteString("[" + strconv.Itoa(int(v)) + "]")
		}
	}
	return b.String(), true
}
