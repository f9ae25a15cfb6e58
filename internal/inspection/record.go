package inspection

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
	"qinqing/internal/staff"
)

// ResultInput is one item's outcome as the phone recorded it. For a failed
// item, who must fix it (a staff member or a team; when neither, the
// inspection's responsible staff member, else the area's team) and by when
// (DefaultFixIn after the inspection when not given).
type ResultInput struct {
	Seq             int
	Passed          bool
	Note            string
	Photos          []files.Upload
	AssigneeStaffID string
	AssigneeTeam    access.Role
	Deadline        *time.Time
}

// RecordInput is one inspection as the phone recorded it, possibly offline:
// DoneAt is when it was done, IdempotencyKey the phone's key for this record.
type RecordInput struct {
	CommunityID     string
	Area            Area
	Location        string
	TemplateVersion int
	ScheduleID      string
	// ResponsibleStaffID is who is in charge of the area (the schedule's
	// when omitted); optional.
	ResponsibleStaffID string
	DoneAt             time.Time
	IdempotencyKey     string
	Note               string
	Results            []ResultInput
}

// Record stores an inspection and a corrective task for each failed item.
// An upload retried with the same key returns what the first one stored
// (replayed=true) and stores nothing again.
func (s *Service) Record(ctx context.Context, c *access.Caller, in RecordInput) (x *Inspection, replayed bool, err error) {
	if err := validate.ID("input.communityId", in.CommunityID); err != nil {
		return nil, false, err
	}
	if err := s.mustManage(c, in.CommunityID); err != nil {
		return nil, false, err
	}
	key, err := validate.Text("input.idempotencyKey", in.IdempotencyKey, true, 64)
	if err != nil {
		return nil, false, err
	}
	key = c.ID + ":" + key
	if prev, err := s.byKey(ctx, key); err != nil || prev != nil {
		if prev != nil {
			err = s.finishTasks(ctx, c, prev)
		}
		return prev, prev != nil, err
	}
	x, err = s.build(ctx, c, in, key)
	if err != nil {
		return nil, false, err
	}
	if err := s.savePhotos(ctx, c, x, in.Results); err != nil {
		return nil, false, err
	}
	if _, err := s.records.InsertOne(ctx, x); err != nil {
		s.files.DeleteAll(ctx, photosOf(x))
		if mongo.IsDuplicate(err) { // a concurrent retry got there first
			prev, err := s.byKey(ctx, key)
			if err == nil && prev == nil {
				err = fmt.Errorf("inspection %s vanished", key)
			}
			return prev, err == nil, err
		}
		return nil, false, fmt.Errorf("insert inspection: %w", err)
	}
	return x, false, s.finishTasks(ctx, c, x)
}

func (s *Service) byKey(ctx context.Context, key string) (*Inspection, error) {
	var x Inspection
	err := s.records.FindOne(ctx, bson.D{{Key: "idempotencyKey", Value: key}}).Decode(&x)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inspection by key: %w", err)
	}
	return &x, nil
}

// build checks in against the checklist version it was done with and makes
// the inspection (photos not yet stored).
func (s *Service) build(ctx context.Context, c *access.Caller, in RecordInput, key string) (*Inspection, error) {
	if err := checkArea("input.area", in.Area); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	if err := validate.Offline("input.doneAt", in.DoneAt, now); err != nil {
		return nil, err
	}
	loc, err := validate.Text("input.location", in.Location, false, 60)
	if err != nil {
		return nil, err
	}
	note, err := validate.Text("input.note", in.Note, false, 500)
	if err != nil {
		return nil, err
	}
	responsible := in.ResponsibleStaffID
	if in.ScheduleID != "" {
		sc, err := s.checkSchedule(ctx, in)
		if err != nil {
			return nil, err
		}
		if responsible == "" {
			responsible = sc.ResponsibleStaffID
		}
	}
	if responsible != "" {
		if _, err := s.workerIn(ctx, "input.responsibleStaffId", in.CommunityID, responsible); err != nil {
			return nil, err
		}
	}
	t, err := s.templateVersion(ctx, in.CommunityID, in.Area, in.TemplateVersion)
	if err != nil {
		return nil, err
	}
	if len(in.Results) != len(t.Items) {
		return nil, apperr.Invalid("input.results", "inspection.items_missing", len(t.Items), len(in.Results))
	}
	x := &Inspection{ID: mongo.NewID(), CommunityID: in.CommunityID, Area: in.Area, Location: loc, TemplateVersion: t.Version,
		ScheduleID: in.ScheduleID, InspectorID: c.ID, ResponsibleStaffID: responsible, DoneAt: in.DoneAt.UTC(), RecordedAt: now,
		IdempotencyKey: key, Note: note, Results: make([]Result, len(t.Items)), Total: len(t.Items)}
	zone := s.loc(x.CommunityID)
	x.Week, x.Month = weekOf(x.DoneAt, zone), monthOf(x.DoneAt, zone)
	x.SortKey = page.NewestFirst(x.DoneAt, x.ID)
	seen := map[int]bool{}
	for i, r := range in.Results {
		field := fmt.Sprintf("input.results.%d", i)
		if r.Seq < 1 || r.Seq > len(t.Items) {
			return nil, apperr.Invalid(field+".seq", "inspection.no_item", r.Seq)
		}
		if seen[r.Seq] {
			return nil, apperr.Invalid(field+".seq", "inspection.item_twice", r.Seq)
		}
		seen[r.Seq] = true
		res, err := s.result(ctx, field, x, t.Items[r.Seq-1], r)
		if err != nil {
			return nil, err
		}
		x.Results[r.Seq-1] = res
		if res.Passed {
			x.Passed++
		}
	}
	return x, nil
}

func (s *Service) result(ctx context.Context, field string, x *Inspection, it Item, r ResultInput) (Result, error) {
	res := Result{Item: it, Passed: r.Passed, Photos: []string{}}
	var err error
	if res.Note, err = validate.Text(field+".note", r.Note, false, 500); err != nil {
		return res, err
	}
	if len(r.Photos) > files.MaxImagesPerStep {
		return res, apperr.Invalid(field+".photos", "input.too_many", files.MaxImagesPerStep)
	}
	if r.Passed {
		res.Team, res.StaffID = DefaultTeam(x.Area), x.ResponsibleStaffID
		return res, nil
	}
	staffID, team := r.AssigneeStaffID, r.AssigneeTeam
	if staffID == "" && team == "" && x.ResponsibleStaffID != "" {
		staffID = x.ResponsibleStaffID
	}
	if res.AssigneeStaffID, res.AssigneeTeam, res.Team, err = s.assignee(ctx, field, x.CommunityID, x.Area, staffID, team); err != nil {
		return res, err
	}
	res.StaffID = res.AssigneeStaffID
	if res.StaffID == "" {
		res.StaffID = x.ResponsibleStaffID
	}
	deadline := x.DoneAt.Add(fixIn(x.Area))
	if r.Deadline != nil {
		deadline = r.Deadline.UTC()
		if !deadline.After(x.DoneAt) || deadline.After(s.now().Add(MaxFixWindow)) {
			return res, apperr.Invalid(field+".deadline", "inspection.bad_deadline")
		}
	}
	res.Deadline = &deadline
	if s.filesDefects(x.Area) {
		res.WorkOrderID = mongo.NewID()
	} else {
		res.TaskID = mongo.NewID()
	}
	return res, nil
}

// assignee checks who a task is for: a staff member working in the
// community, or one of the Teams; the area's team when neither is named.
// scoreTeam is the team the item counts for: the task's team, the staff
// member's team, or the area's when the staff member is in none.
func (s *Service) assignee(ctx context.Context, field, communityID string, a Area, staffID string, team access.Role) (id string, assigned, scoreTeam access.Role, err error) {
	switch {
	case staffID != "" && team != "":
		return "", "", "", apperr.Invalid(field+".assigneeTeam", "inspection.one_assignee")
	case staffID != "":
		st, err := s.workerIn(ctx, field+".assigneeStaffId", communityID, staffID)
		if err != nil {
			return "", "", "", err
		}
		return staffID, "", teamOf(st.Roles, a), nil
	case team != "":
		if !slices.Contains(Teams, team) {
			return "", "", "", apperr.Invalid(field+".assigneeTeam", "inspection.bad_team")
		}
		return "", team, team, nil
	}
	return "", DefaultTeam(a), DefaultTeam(a), nil
}

// workerIn is an active staff member working in the community.
func (s *Service) workerIn(ctx context.Context, field, communityID, staffID string) (*staff.Staff, error) {
	if err := validate.ID(field, staffID); err != nil {
		return nil, err
	}
	st, err := s.staff.Get(ctx, staffID)
	if err != nil || !st.Active || !slices.Contains(st.CommunityIDs, communityID) {
		return nil, apperr.Invalid(field, "inspection.not_assignee")
	}
	return st, nil
}

// teamOf is the team a staff member belongs to; the area's team when the
// area's is among theirs or they are in none.
func teamOf(roles []access.Role, a Area) access.Role {
	if slices.ContainsFunc(teamRoles(DefaultTeam(a)), func(r access.Role) bool { return slices.Contains(roles, r) }) {
		return DefaultTeam(a)
	}
	for _, t := range Teams {
		if slices.ContainsFunc(teamRoles(t), func(r access.Role) bool { return slices.Contains(roles, r) }) {
			return t
		}
	}
	return DefaultTeam(a)
}

func (s *Service) savePhotos(ctx context.Context, c *access.Caller, x *Inspection, in []ResultInput) error {
	m := files.Meta{Purpose: FilePurpose, SubjectID: x.ID, CommunityID: x.CommunityID, UploadedBy: c.ID}
	for i, r := range in {
		ids, err := s.files.SaveImages(ctx, fmt.Sprintf("input.results.%d.photos", i), r.Photos, m)
		if err != nil {
			s.files.DeleteAll(ctx, photosOf(x))
			return err
		}
		x.Results[r.Seq-1].Photos = ids
	}
	return nil
}

func photosOf(x *Inspection) []string {
	var ids []string
	for _, r := range x.Results {
		ids = append(ids, r.Photos...)
	}
	return ids
}

// finishTasks writes the corrective tasks of x's failed items that are not
// stored yet: all of them after the inspection's insert, the ones a failed
// earlier attempt left out on a retry.
func (s *Service) finishTasks(ctx context.Context, c *access.Caller, x *Inspection) error {
	if err := s.fileDefects(ctx, x); err != nil {
		return err
	}
	var want []string
	for _, r := range x.Results {
		if r.TaskID != "" {
			want = append(want, r.TaskID)
		}
	}
	if len(want) == 0 {
		return nil
	}
	have, err := mongo.ByIDs(ctx, s.tasks, want, func(t *Task) string { return t.ID })
	if err != nil {
		return err
	}
	var docs []any
	for _, r := range x.Results {
		if r.TaskID == "" || have[r.TaskID] != nil {
			continue
		}
		t := &Task{ID: r.TaskID, CommunityID: x.CommunityID, InspectionID: x.ID, InspectorID: x.InspectorID, Area: x.Area, Location: x.Location,
			Item: r.Item, FailNote: r.Note, FailPhotos: r.Photos, AssigneeStaffID: r.AssigneeStaffID, AssigneeTeam: r.AssigneeTeam,
			Deadline: *r.Deadline, Status: Open, Rechecks: []Recheck{}, CreatedAt: x.RecordedAt, UpdatedAt: x.RecordedAt}
		t.SortKey = page.NewestFirst(x.DoneAt, t.ID)
		t.Timeline = []lifecycle.Entry{{At: x.RecordedAt, Action: "create", To: string(Open), ActorID: x.InspectorID, ActorKind: string(c.Kind),
			Note: strings.TrimSpace(r.Note), Data: map[string]any{"inspectionId": x.ID, "seq": r.Seq}}}
		docs = append(docs, t)
	}
	if len(docs) == 0 {
		return nil
	}
	if _, err := s.tasks.InsertMany(ctx, docs); err != nil && !mongo.IsDuplicate(err) {
		return fmt.Errorf("insert corrective tasks of %s: %w", x.ID, err)
	}
	return nil
}
