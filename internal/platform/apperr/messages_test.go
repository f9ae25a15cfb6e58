package apperr

import "testing"

// Messages never carry the field path; predicates get a neutral subject.
func TestMessageHasNoFieldPath(t *testing.T) {
	for _, tc := range []struct {
		e    *Error
		lang Lang
		want string
	}{
		{Invalid("input.description", "input.too_long", 1000), ZH, "此项不能超过 1000 个字符"},
		{Invalid("input.description", "input.too_long", 1000), EN, "This field must be at most 1000 characters"},
		{Invalid("input.phone", "input.bad_phone"), ZH, "手机号格式不正确"},
		{Invalid("input.phone", "input.bad_phone"), EN, "This field is not a valid mainland China mobile number"},
		{Invalid("input.name", "input.required"), ZH, "此项不能为空"},
		{New(BadUserInput, "input.too_long").WithArgs(5), ZH, "不能超过 5 个字符"},
		{ErrForbidden, EN, "You are not allowed to do this"},
	} {
		if got := Message(tc.e, tc.lang); got != tc.want {
			t.Errorf("Message(%s, %s) = %q, want %q", tc.e, tc.lang, got, tc.want)
		}
	}
}
