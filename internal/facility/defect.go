package facility

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
)

// Defect is what the handover inspection (承接查验) found wrong with one
// item of its checklist: the finding a defect order fixes.
type Defect struct {
	InspectionID string    `bson:"inspectionId"`
	Seq          int       `bson:"seq"`
	Text         string    `bson:"text"`
	Standard     string    `bson:"standard"`
	Note         string    `bson:"note,omitempty"`
	Location     string    `bson:"location,omitempty"`
	FoundBy      string    `bson:"foundBy"`
	FoundAt      time.Time `bson:"foundAt"`
}

// DefectInput is one failed handover item as the inspection recorded it.
// OrderID is chosen by the inspection and kept on its result, so a retried
// upload files the same order again and the second insert changes nothing.
type DefectInput struct {
	OrderID         string
	CommunityID     string
	Defect          Defect
	AssigneeStaffID string
	AssigneeTeam    access.Role
	Deadline        time.Time
}

// FileDefects raises a work order for each defect, for the engineers (or the
// staff member the inspector named), due on the deadline's day in the
// community. The inspection service has already checked who may record it
// and whom it names; an order already filed is left as it is.
func (s *Service) FileDefects(ctx context.Context, ds []DefectInput) error {
	if len(ds) == 0 {
		return nil
	}
	docs := make([]any, 0, len(ds))
	now := s.cfg.Now().UTC()
	for _, d := range ds {
		due := d.Deadline.In(s.cfg.Zone(d.CommunityID)).Format(time.DateOnly)
		team := d.AssigneeTeam
		if d.AssigneeStaffID == "" && team == "" {
			team = access.Engineer
		}
		o := &Order{ID: d.OrderID, CommunityID: d.CommunityID, Kind: DefectFix, Defect: &d.Defect,
			AssigneeStaffID: d.AssigneeStaffID, AssigneeTeam: team, Title: clip("承接查验整改："+d.Defect.Text, 60), DueDate: due,
			Checklist: []string{clip(d.Defect.Text+"："+d.Defect.Standard, MaxStepChars)}, Disturbs: []Disturbance{}, Serves: []string{},
			Status: Open, CreatedAt: now, UpdatedAt: now, SortKey: due + "|" + d.OrderID,
			Timeline: []lifecycle.Entry{{At: now, Action: "raise", To: string(Open), ActorID: d.Defect.FoundBy, ActorKind: "STAFF",
				Note: d.Defect.Note, Data: map[string]any{"inspectionId": d.Defect.InspectionID, "seq": d.Defect.Seq}}}}
		docs = append(docs, o)
	}
	// Unordered: on a retry the orders already there fail as duplicates
	// and the missing ones still go in.
	if _, err := s.orders.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil && !mongo.IsDuplicate(err) {
		return fmt.Errorf("file handover defects: %w", err)
	}
	return nil
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
