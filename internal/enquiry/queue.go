package enquiry

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Mine lists the caller's own enquiries with their answers, newest first:
// those they asked, and those of their households with nobody named.
func (s *Service) Mine(ctx context.Context, c *access.Caller, p page.Request) (page.Page[*Enquiry], error) {
	if !c.IsPerson() {
		return page.Page[*Enquiry]{Items: []*Enquiry{}, Total: 0}, nil
	}
	hs := []string{}
	for _, m := range c.Memberships {
		hs = append(hs, m.HouseholdID)
	}
	q := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "askerId", Value: c.ID}},
		bson.D{{Key: "householdId", Value: bson.D{{Key: "$in", Value: hs}}}, {Key: "askerId", Value: nil}},
	}}}
	// Staff notes stay in the database: the resident's list never loads them.
	return mongo.FindPage(ctx, s.col, q, p, mongo.PageQuery{Omit: []string{"timeline", "staffNotes"}}, func(x *Enquiry) string { return x.SortKey })
}

// Filter narrows the staff list.
type Filter struct {
	CommunityID  string // required
	Status       Status
	OwnerStaffID string
	Category     Category
	Overdue      bool
}

// List is the staff list of a community's enquiries, newest first, counted:
// its front-desk staff, butlers and supervisors (and admins).
func (s *Service) List(ctx context.Context, c *access.Caller, f Filter, p page.Request) (page.Page[*Enquiry], error) {
	var none page.Page[*Enquiry]
	if !c.IsStaff() {
		return none, apperr.ErrForbidden
	}
	if err := validate.ID("communityId", f.CommunityID); err != nil {
		return none, err
	}
	if !handles(c, f.CommunityID) {
		return none, apperr.ErrForbidden
	}
	q := bson.D{{Key: "communityId", Value: f.CommunityID}}
	if f.Status != "" {
		if !slices.Contains(Statuses, f.Status) {
			return none, apperr.Invalid("filter.status", "input.bad_value")
		}
		q = append(q, bson.E{Key: "status", Value: f.Status})
	}
	if f.OwnerStaffID != "" {
		if err := validate.ID("filter.ownerStaffId", f.OwnerStaffID); err != nil {
			return none, err
		}
		q = append(q, bson.E{Key: "ownerStaffId", Value: f.OwnerStaffID})
	}
	if f.Category != "" {
		if !slices.Contains(Categories, f.Category) {
			return none, apperr.Invalid("filter.category", "input.bad_value")
		}
		q = append(q, bson.E{Key: "category", Value: f.Category})
	}
	if f.Overdue {
		q = append(q, bson.E{Key: "nextDeadline", Value: bson.D{{Key: "$lt", Value: s.now()}}})
	}
	return mongo.FindPage(ctx, s.col, q, p, mongo.PageQuery{Omit: []string{"timeline"}}, func(x *Enquiry) string { return x.SortKey })
}

// OverdueIn lists a community's open enquiries past their promised time,
// earliest first: the owners' task lists read them live.
func (s *Service) OverdueIn(ctx context.Context, communityID string, limit int) ([]*Enquiry, error) {
	q := bson.D{{Key: "communityId", Value: communityID}, {Key: "nextDeadline", Value: bson.D{{Key: "$lt", Value: s.now()}}}}
	return s.findSome(ctx, q, limit)
}

func (s *Service) findSome(ctx context.Context, q bson.D, limit int) ([]*Enquiry, error) {
	cur, err := s.col.Find(ctx, q, options.Find().SetSort(bson.D{{Key: "nextDeadline", Value: 1}}).SetLimit(int64(limit)).
		SetProjection(bson.D{{Key: "timeline", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("overdue enquiries: %w", err)
	}
	var out []*Enquiry
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("overdue enquiries: %w", err)
	}
	return out, nil
}

// Escalate tells the community's supervisors, once per owner, of each open
// enquiry past its promised time. Every server ticks it; the message key
// makes it once and escalatedAt keeps the next tick from looking again (a
// hand-over clears it: the new owner's lateness is told anew).
func (s *Service) Escalate(ctx context.Context, now time.Time) error {
	due, err := s.findSome(ctx, bson.D{{Key: "nextDeadline", Value: bson.D{{Key: "$lt", Value: now.UTC()}}}, {Key: "escalatedAt", Value: nil}}, 500)
	if err != nil {
		return err
	}
	sups := map[string][]notify.Recipient{}
	for _, x := range due {
		rs, ok := sups[x.CommunityID]
		if !ok {
			list, err := s.cfg.Staff.WithRole(ctx, x.CommunityID, access.Supervisor)
			if err != nil {
				return err
			}
			for _, st := range list {
				rs = append(rs, notify.Recipient{Kind: auth.KindStaff, ID: st.ID, CommunityID: x.CommunityID})
			}
			sups[x.CommunityID] = rs
		}
		owner := x.OwnerStaffID
		if s.cfg.Sender != nil && len(rs) > 0 {
			if _, err := s.cfg.Sender.Send(ctx, notify.Message{Kind: notify.ButlerTaskDue, Key: "enquiry:" + x.ID + ":overdue:" + owner, Recipients: rs,
				Vars: map[string]any{"label": "咨询逾期未答复", "title": summary(x.Question), "titleEN": "An overdue enquiry"},
				Data: map[string]string{"enquiryId": x.ID, "ownerStaffId": owner}}); err != nil {
				return err
			}
		}
		var ownerQ any = owner
		if owner == "" {
			ownerQ = nil // unowned: the field is absent
		}
		if _, err := s.col.UpdateOne(ctx, bson.D{{Key: "_id", Value: x.ID}, {Key: "ownerStaffId", Value: ownerQ}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "escalatedAt", Value: now.UTC()}}}}); err != nil {
			return fmt.Errorf("mark enquiry escalated: %w", err)
		}
	}
	return nil
}

func summary(s string) string {
	r := []rune(s)
	if len(r) > 30 {
		return string(r[:30]) + "…"
	}
	return s
}
