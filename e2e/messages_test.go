package e2e

import (
	"strings"
	"testing"
)

// A message is the sentence a person reads, in Chinese by default and in
// English on request, with no field path in front; the path stays in
// extensions.field for the app to place it.
func TestMessagesWithoutFieldPath(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	zh := e.owner(w.OwnerA.Phone)
	en := &client{e: e, token: zh.token, lang: "en"}
	submit := `mutation($i:SubmitRepairRequestInput!){ submitRepairRequest(input:$i){ id } }`
	vars := map[string]any{"i": map[string]any{"householdId": w.HA.ID, "category": "WATER", "description": strings.Repeat("漏", 1001), "inHome": true}}
	for _, tc := range []struct {
		c    *client
		want string
	}{
		{zh, "此项不能超过 1000 个字符"},
		{en, "This field must be at most 1000 characters"},
	} {
		r := tc.c.fails("BAD_USER_INPUT", submit, vars)
		msg := r.Errors[0].Message
		if msg != tc.want || r.field() != "input.description" {
			t.Errorf("lang %q: message %q field %q, want %q about input.description", tc.c.lang, msg, r.field(), tc.want)
		}
	}
}

// Errors of the GraphQL layer (parse, validation, variables) keep their
// code and reason, and read in Chinese by default, naming what they quote.
func TestGraphQLLayerErrorsInChinese(t *testing.T) {
	e := newEnv(t)
	zh := e.anon()
	en := e.anon()
	en.lang = "en"
	tests := []struct {
		name, query     string
		vars            map[string]any
		reason          string
		wantZH, wantEN  string
		field, detailEN string
	}{
		{"unknown field", `{ noSuchField }`, nil, "GRAPHQL_VALIDATION_FAILED",
			`类型“Query”没有字段“noSuchField”。`, `Cannot query field "noSuchField" on type "Query".`, "", `Cannot query field "noSuchField" on type "Query".`},
		{"wrong argument type", `{ announcements(communityId: "x", first: "ten") { edges { cursor } } }`, nil, "GRAPHQL_VALIDATION_FAILED",
			`值 "ten" 不能作为 Int 类型。`, `Int cannot represent non-integer value: "ten"`, "", ""},
		{"unknown argument", `{ announcements(communityId: "x", frist: 1) { edges { cursor } } }`, nil, "GRAPHQL_VALIDATION_FAILED",
			`字段“Query.announcements”没有参数“frist”。是否指 "first"？`, `Unknown argument "frist" on field "Query.announcements". Did you mean "first"?`, "", ""},
		{"missing argument", `{ household { id } }`, nil, "GRAPHQL_VALIDATION_FAILED",
			`字段“household”缺少必填参数“id”（类型 ID!）。`, `Field "household" argument "id" of type "ID!" is required, but it was not provided.`, "", ""},
		{"undeclared variable", `{ household(id: $id) { id } }`, nil, "GRAPHQL_VALIDATION_FAILED",
			`变量“$id”未声明。`, `Variable "$id" is not defined.`, "", ""},
		{"missing variable", `query($id: ID!) { household(id: $id) { id } }`, nil, "GRAPHQL_VALIDATION_FAILED",
			`必须提供变量“$id”。`, `Variable "$id" must be provided.`, "$id", ""},
		{"null variable", `query($id: ID!) { household(id: $id) { id } }`, map[string]any{"id": nil}, "GRAPHQL_VALIDATION_FAILED",
			`变量“$id”不能为 null。`, `Variable "$id" cannot be null.`, "$id", ""},
		{"parse error", `{ household(id: "x") { id }`, nil, "GRAPHQL_PARSE_FAILED",
			`查询语句有语法错误，无法解析。`, `Expected Name, found <EOF>`, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := zh.fails("BAD_USER_INPUT", tc.query, tc.vars)
			if r.reason() != tc.reason || r.Errors[0].Message != tc.wantZH || r.field() != tc.field {
				t.Errorf("zh: reason %q message %q field %q, want %s %q %q", r.reason(), r.Errors[0].Message, r.field(), tc.reason, tc.wantZH, tc.field)
			}
			if d, _ := r.Errors[0].Extensions["detail"].(string); d == "" || tc.detailEN != "" && d != tc.detailEN {
				t.Errorf("zh: detail %q, want the English original %q", d, tc.detailEN)
			}
			r = en.fails("BAD_USER_INPUT", tc.query, tc.vars)
			if r.reason() != tc.reason || r.Errors[0].Message != tc.wantEN {
				t.Errorf("en: reason %q message %q, want %s %q", r.reason(), r.Errors[0].Message, tc.reason, tc.wantEN)
			}
		})
	}
}
