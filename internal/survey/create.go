package survey

import (
	"context"
	"fmt"
	"slices"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// QuestionInput is one question of a new survey. Required defaults to true,
// except for free text, which is optional unless asked otherwise.
type QuestionInput struct {
	Type      QuestionType
	Text      string
	Options   []string
	Dimension Dimension
	Required  *bool
}

// CreateInput is a new survey.
type CreateInput struct {
	CommunityID string
	Title       string
	Intro       string
	Questions   []QuestionInput
	BuildingIDs []string
	OpensAt     time.Time
	ClosesAt    time.Time
	ResponsePer Per
	Anonymous   bool
}

// Create stores a survey as a draft. Supervisors of the community and
// admins; staff of another community get NOT_FOUND, as for a community
// they cannot see.
func (s *Service) Create(ctx context.Context, c *access.Caller, in CreateInput) (*Survey, error) {
	return s.create(ctx, c, in, "")
}

func (s *Service) create(ctx context.Context, c *access.Caller, in CreateInput, tpl Template) (*Survey, error) {
	com, err := s.authorizeCommunity(ctx, c, in.CommunityID)
	if err != nil {
		return nil, err
	}
	sv := &Survey{ID: mongo.NewID(), CommunityID: com.ID, Template: tpl, Status: Draft, CreatedBy: c.ID, Anonymous: in.Anonymous}
	if sv.Title, err = validate.Text("input.title", in.Title, true, MaxTitle); err != nil {
		return nil, err
	}
	if sv.Intro, err = validate.Text("input.intro", in.Intro, false, MaxIntro); err != nil {
		return nil, err
	}
	if sv.Questions, err = checkQuestions(in.Questions); err != nil {
		return nil, err
	}
	if sv.BuildingIDs, err = s.cfg.Communities.CheckBuildings(ctx, "input.buildingIds", com.ID, in.BuildingIDs, MaxBuildings); err != nil {
		return nil, err
	}
	if in.ResponsePer != PerHousehold && in.ResponsePer != PerPerson {
		return nil, apperr.Invalid("input.responsePer", "input.bad_value")
	}
	sv.ResponsePer = in.ResponsePer
	now := s.cfg.Now().UTC()
	if in.OpensAt.IsZero() {
		return nil, apperr.Invalid("input.opensAt", "input.required")
	}
	sv.OpensAt, sv.ClosesAt = in.OpensAt.UTC(), in.ClosesAt.UTC()
	if !sv.ClosesAt.After(sv.OpensAt) || !sv.ClosesAt.After(now) || sv.ClosesAt.Sub(sv.OpensAt) > MaxWindow {
		return nil, apperr.Invalid("input.closesAt", "survey.closes_before", int(MaxWindow/(24*time.Hour)))
	}
	sv.RemindAt = remindAt(sv.OpensAt, sv.ClosesAt)
	sv.Targets = targetKeys(sv.CommunityID, sv.BuildingIDs)
	sv.CreatedAt, sv.UpdatedAt = now, now
	sv.SortKey = page.NewestFirst(now, sv.ID)
	sv.Timeline = []lifecycle.Entry{{At: now, Action: "create", To: string(Draft), ActorID: c.ID, ActorKind: string(c.Kind)}}
	if _, err := s.col.InsertOne(ctx, sv); err != nil {
		return nil, fmt.Errorf("insert survey: %w", err)
	}
	s.publish(ctx, c, sv, "created")
	zero := 0
	sv.ResponseCount = &zero
	return sv, nil
}

// remindAt is ReminderBefore closing; in a window shorter than twice that,
// halfway, so nobody is reminded of a survey they were just invited to.
func remindAt(opens, closes time.Time) time.Time {
	at := closes.Add(-ReminderBefore)
	if mid := opens.Add(closes.Sub(opens) / 2); at.Before(mid) {
		return mid
	}
	return at
}

// authorizeCommunity: staff only (residents FORBIDDEN), of the community
// (others NOT_FOUND), managing it (other roles FORBIDDEN).
func (s *Service) authorizeCommunity(ctx context.Context, c *access.Caller, communityID string) (*community.Community, error) {
	if err := validate.ID("input.communityId", communityID); err != nil {
		return nil, err
	}
	if !c.IsStaff() {
		return nil, apperr.ErrForbidden
	}
	com, err := s.cfg.Communities.Get(ctx, c, communityID)
	if err != nil {
		return nil, err
	}
	if !manages(c, com.ID) {
		return nil, apperr.ErrForbidden
	}
	return com, nil
}

// checkQuestions validates the questions and numbers them. Field names
// follow the input: input.questions.<i>.<field>, i counted from 0.
func checkQuestions(in []QuestionInput) ([]Question, error) {
	if len(in) == 0 {
		return nil, apperr.Invalid("input.questions", "input.required")
	}
	if len(in) > MaxQuestions {
		return nil, apperr.Invalid("input.questions", "input.too_many", MaxQuestions)
	}
	out := make([]Question, 0, len(in))
	var asked []Dimension
	for i, q := range in {
		field := fmt.Sprintf("input.questions.%d.", i)
		if !slices.Contains(QuestionTypes, q.Type) {
			return nil, apperr.Invalid(field+"type", "input.bad_value")
		}
		x := Question{ID: fmt.Sprintf("q%d", i+1), Number: i + 1, Type: q.Type, Options: []string{}, Required: q.Type != FreeText}
		if q.Required != nil {
			x.Required = *q.Required
		}
		var err error
		// A dimension question may leave its text to the dimension's name.
		if x.Text, err = validate.Text(field+"text", q.Text, q.Type != DimensionQ, MaxQuestion); err != nil {
			return nil, err
		}
		switch q.Type {
		case SingleChoice, MultipleChoice:
			if x.Options, err = checkOptions(field+"options", q.Options); err != nil {
				return nil, err
			}
		default:
			if len(q.Options) > 0 {
				return nil, apperr.Invalid(field+"options", "survey.no_options")
			}
		}
		if q.Type == DimensionQ {
			if !slices.Contains(Dimensions, q.Dimension) || slices.Contains(asked, q.Dimension) {
				return nil, apperr.Invalid(field+"dimension", "survey.dimension")
			}
			asked = append(asked, q.Dimension)
			x.Dimension = q.Dimension
			if x.Text == "" {
				x.Text = q.Dimension.Label(apperr.ZH)
			}
		} else if q.Dimension != "" {
			return nil, apperr.Invalid(field+"dimension", "survey.not_asked")
		}
		out = append(out, x)
	}
	return out, nil
}

func checkOptions(field string, opts []string) ([]string, error) {
	out := make([]string, 0, len(opts))
	for _, o := range opts {
		v, err := validate.Text(field, o, true, MaxOption)
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, v) {
			return nil, apperr.Invalid(field, "survey.options", 2, MaxOptions)
		}
		out = append(out, v)
	}
	if len(out) < 2 || len(out) > MaxOptions {
		return nil, apperr.Invalid(field, "survey.options", 2, MaxOptions)
	}
	return out, nil
}

// CreateFromTemplate creates a standard survey as a draft for the whole
// community, answered once per household and anonymously (residents are
// franker about their property company when it cannot tell who said what).
func (s *Service) CreateFromTemplate(ctx context.Context, c *access.Caller, communityID string, tpl Template, opensAt, closesAt time.Time) (*Survey, error) {
	if tpl != SemiAnnual {
		return nil, apperr.Invalid("template", "input.bad_value")
	}
	com, err := s.authorizeCommunity(ctx, c, communityID)
	if err != nil {
		return nil, err
	}
	in := SemiAnnualInput(com.ID, opensAt.In(com.Location()))
	in.OpensAt, in.ClosesAt = opensAt, closesAt
	return s.create(ctx, c, in, tpl)
}

// SemiAnnualInput is the standard semi-annual satisfaction survey (上半年 /
// 下半年 by the opening date in the community's zone): importance and
// satisfaction of every service dimension, an overall rating and a
// suggestion box.
func SemiAnnualInput(communityID string, opens time.Time) CreateInput {
	half := "上半年"
	if opens.Month() > time.June {
		half = "下半年"
	}
	in := CreateInput{
		CommunityID: communityID,
		Title:       fmt.Sprintf("%d年%s业主满意度调查", opens.Year(), half),
		Intro: "尊敬的业主：为了把服务做得更贴心，请您花几分钟告诉我们：各项服务对您有多重要，您又有多满意（1 分最低，5 分最高）。" +
			"本调查匿名进行，每户一份，截止前可随时修改。感谢您的支持！",
		ResponsePer: PerHousehold,
		Anonymous:   true,
	}
	for _, d := range Dimensions {
		in.Questions = append(in.Questions, QuestionInput{Type: DimensionQ, Dimension: d,
			Text: fmt.Sprintf("%s：这项服务对您有多重要？您对它有多满意？", d.Label(apperr.ZH))})
	}
	in.Questions = append(in.Questions,
		QuestionInput{Type: Rating, Text: "总体而言，您对物业服务的满意程度如何？"},
		QuestionInput{Type: FreeText, Text: "您对我们的服务还有哪些意见和建议？"},
	)
	return in
}
