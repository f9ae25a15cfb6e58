package survey

import (
	"fmt"
	"slices"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/validate"
)

// Answer is the answer to one question; only the fields its type asks for
// are set.
type Answer struct {
	QuestionID   string  `bson:"q"`
	Choices      []int   `bson:"c,omitempty"` // option indexes, from 0
	Rating       *int    `bson:"r,omitempty"`
	Text         *string `bson:"t,omitempty"`
	Importance   *int    `bson:"i,omitempty"`
	Satisfaction *int    `bson:"s,omitempty"`
}

// checkAnswers validates answers against the survey's questions and returns
// them in question order. A field is answers.<i>.<field>, i the answer's
// place in the input, counted from 0.
func checkAnswers(sv *Survey, in []Answer) ([]Answer, error) {
	byQ := make([]*Answer, len(sv.Questions))
	for i := range in {
		a := in[i]
		field := fmt.Sprintf("answers.%d.", i)
		qi, q := sv.question(a.QuestionID)
		if q == nil {
			return nil, apperr.Invalid(field+"questionId", "survey.unknown_question")
		}
		if byQ[qi] != nil {
			return nil, apperr.Invalid(field+"questionId", "survey.answered_twice")
		}
		clean, err := checkAnswer(field, q, a)
		if err != nil {
			return nil, err
		}
		if clean != nil {
			byQ[qi] = clean
		}
	}
	out := []Answer{}
	for i, a := range byQ {
		if a == nil {
			if sv.Questions[i].Required {
				return nil, apperr.Invalid("answers", "survey.answer_missing", sv.Questions[i].Number)
			}
			continue
		}
		out = append(out, *a)
	}
	return out, nil
}

// checkAnswer validates one answer; nil means "no answer" (empty text).
func checkAnswer(field string, q *Question, a Answer) (*Answer, error) {
	out := Answer{QuestionID: q.ID}
	// Clients send empty fields freely; a value a question does not ask
	// for is a mistake worth naming.
	for _, x := range []struct {
		name string
		set  bool
	}{
		{"choices", len(a.Choices) > 0 && q.Type != SingleChoice && q.Type != MultipleChoice},
		{"rating", a.Rating != nil && q.Type != Rating},
		{"text", a.Text != nil && *a.Text != "" && q.Type != FreeText},
		{"importance", a.Importance != nil && q.Type != DimensionQ},
		{"satisfaction", a.Satisfaction != nil && q.Type != DimensionQ},
	} {
		if x.set {
			return nil, apperr.Invalid(field+x.name, "survey.not_asked")
		}
	}
	switch q.Type {
	case SingleChoice, MultipleChoice:
		if len(a.Choices) == 0 || (q.Type == SingleChoice && len(a.Choices) != 1) {
			if q.Type == SingleChoice {
				return nil, apperr.Invalid(field+"choices", "survey.choose_one")
			}
			return nil, apperr.Invalid(field+"choices", "survey.choices")
		}
		seen := map[int]bool{}
		for _, ch := range a.Choices {
			if ch < 0 || ch >= len(q.Options) || seen[ch] {
				return nil, apperr.Invalid(field+"choices", "survey.choices")
			}
			seen[ch] = true
		}
		out.Choices = slices.Clone(a.Choices)
		slices.Sort(out.Choices)
	case Rating:
		if err := score(field+"rating", a.Rating); err != nil {
			return nil, err
		}
		out.Rating = a.Rating
	case FreeText:
		t, err := validate.OptText(field+"text", a.Text, MaxTextAnswer)
		if err != nil {
			return nil, err
		}
		if t == nil || *t == "" {
			return nil, nil
		}
		out.Text = t
	case DimensionQ:
		if err := score(field+"importance", a.Importance); err != nil {
			return nil, err
		}
		if err := score(field+"satisfaction", a.Satisfaction); err != nil {
			return nil, err
		}
		out.Importance, out.Satisfaction = a.Importance, a.Satisfaction
	}
	return &out, nil
}

func score(field string, v *int) error {
	if v == nil {
		return apperr.Invalid(field, "input.required")
	}
	if *v < MinScore || *v > MaxScore {
		return apperr.Invalid(field, "survey.score", MinScore, MaxScore)
	}
	return nil
}
