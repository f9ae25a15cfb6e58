package inspection

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// RecheckInput is an inspector's re-check of a corrective task. A failed
// re-check sets a new deadline (EscalateFixIn from now when not given).
type RecheckInput struct {
	TaskID   string
	Version  int
	Passed   bool
	Note     string
	Photos   []files.Upload
	Deadline *time.Time
}

// Task returns a corrective task the caller may see; others are NOT_FOUND.
func (s *Service) Task(ctx context.Context, c *access.Caller, id string) (*Task, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	t, err := mongo.FindByID[Task](ctx, s.tasks, id, ErrTaskNotFound)
	if err != nil {
		return nil, err
	}
	if !seesTask(c, t) {
		return nil, ErrTaskNotFound
	}
	return t, nil
}

// Recheck records a re-check: a pass closes the task; a fail escalates it
// to the community's supervisors with a new deadline.
func (s *Service) Recheck(ctx context.Context, c *access.Caller, in RecheckInput) (*Task, error) {
	t, err := s.Task(ctx, c, in.TaskID)
	if err != nil {
		return nil, err
	}
	if !manages(c, t.CommunityID) {
		return nil, ErrForbidden
	}
	action := "recheck_pass"
	if !in.Passed {
		action = "recheck_fail"
	}
	to, err := Machine.Next(action, t.Status)
	if err != nil {
		return nil, err
	}
	note, err := validate.Text("input.note", in.Note, !in.Passed, 500)
	if err != nil {
		return nil, err
	}
	if len(in.Photos) > files.MaxImagesPerStep {
		return nil, apperr.Invalid("input.photos", "input.too_many", files.MaxImagesPerStep)
	}
	now := s.now().UTC()
	set := bson.D{}
	if !in.Passed {
		deadline := now.Add(EscalateFixIn)
		if in.Deadline != nil {
			deadline = in.Deadline.UTC()
			if !deadline.After(now) || deadline.After(now.Add(MaxFixWindow)) {
				return nil, apperr.Invalid("input.deadline", "inspection.bad_deadline")
			}
		}
		set = append(set, bson.E{Key: "deadline", Value: deadline})
	}
	photos, err := s.files.SaveImages(ctx, "input.photos", in.Photos, files.Meta{Purpose: FilePurpose, SubjectID: t.ID, CommunityID: t.CommunityID, UploadedBy: c.ID})
	if err != nil {
		return nil, err
	}
	rc := Recheck{At: now, StaffID: c.ID, Passed: in.Passed, Note: note, Photos: photos}
	extra := bson.D{{Key: "$push", Value: bson.D{{Key: "rechecks", Value: rc}}}}
	if !in.Passed {
		extra = append(extra, bson.E{Key: "$inc", Value: bson.D{{Key: "escalations", Value: 1}}})
	}
	entry := lifecycle.Entry{At: now, Action: action, From: string(t.Status), To: string(to), ActorID: c.ID, ActorKind: string(c.Kind), Note: note}
	var out Task
	if err := s.steps.ApplyWith(ctx, t.ID, in.Version, entry, set, extra, &out); err != nil {
		s.files.DeleteAll(ctx, photos)
		return nil, err
	}
	if !in.Passed {
		s.escalate(ctx, &out)
	}
	return &out, nil
}

// escalate tells the community's supervisors. The step is stored whatever
// happens here: a failed notice is logged.
func (s *Service) escalate(ctx context.Context, t *Task) {
	if s.notifier == nil {
		return
	}
	sups, err := s.staff.WithRole(ctx, t.CommunityID, access.Supervisor)
	if err == nil && len(sups) > 0 {
		rs := make([]notify.Recipient, len(sups))
		for i, st := range sups {
			rs[i] = notify.Recipient{Kind: auth.KindStaff, ID: st.ID, CommunityID: t.CommunityID}
		}
		by := t.Deadline.In(s.loc(t.CommunityID))
		who := TeamNames[t.AssigneeTeam]
		if t.AssigneeStaffID != "" {
			if st, gerr := s.staff.Get(ctx, t.AssigneeStaffID); gerr == nil {
				who = st.Name
			}
		}
		_, err = s.notifier.Send(context.WithoutCancel(ctx), notify.Message{
			Kind: notify.InspectionEscalated, Key: fmt.Sprintf("inspection-task:%s:escalation:%d", t.ID, t.Escalations),
			Subject: "inspection-task:" + t.ID, Recipients: rs,
			Vars: map[string]any{"area": AreaNames[t.Area][0], "areaEN": AreaNames[t.Area][1], "item": t.Item.Text,
				"location": t.Location, "assignee": who, "times": t.Escalations,
				"deadline": by.Format("1月2日 15:04"), "deadlineEN": by.Format("2 Jan 15:04")},
			Data: map[string]string{"taskId": t.ID, "communityId": t.CommunityID},
		})
	}
	if err != nil && s.log != nil {
		s.log.WarnContext(ctx, "inspection escalation notice", "task", t.ID, "err", err)
	}
}

// cst is the time zone when the service has no community zones (the
// estates are in mainland China).
var cst = time.FixedZone("CST", 8*3600)

// TeamNames are the teams' names in notices.
var TeamNames = map[access.Role]string{access.Cleaner: "保洁组", access.Security: "秩序维护组", access.Engineer: "工程组", access.CustomerService: "客服组"}

// AreaNames are the areas' names in Chinese and English, for notices.
var AreaNames = map[Area][2]string{
	Lobby: {"大堂", "lobby"}, Corridor: {"楼层走廊", "corridor"}, LiftCar: {"电梯轿厢", "lift car"}, Stairs: {"楼梯", "stairs"},
	PublicToilet: {"公共洗手间", "public toilet"}, BasementGarage: {"地下室及车库", "basement and garage"}, Roof: {"天面", "roof"},
	Garden: {"园林绿化", "gardens"}, SecurityPost: {"岗亭", "security post"}, FrontDesk: {"前台", "front desk"}, Handover: {"承接查验", "handover inspection"},
}
