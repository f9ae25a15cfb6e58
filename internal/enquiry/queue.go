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
	"qinqing/internal/staff"
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
// enquiry past its promised time (咨询超时未答复), naming the owner and the
// promised time, and tells the owner too. Every server ticks it; the message
// keys make it once and escalatedAt keeps the next tick from looking again
// (a hand-over clears it: the new owner's lateness is told anew). The
// owners' names are read once per round.
func (s *Service) Escalate(ctx context.Context, now time.Time) error {
	due, err := s.findSome(ctx, bson.D{{Key: "nextDeadline", Value: bson.D{{Key: "$lt", Value: now.UTC()}}}, {Key: "escalatedAt", Value: nil}}, 500)
	if err != nil {
		return err
	}
	var owners []string
	for _, x := range due {
		if x.OwnerStaffID != "" && !slices.Contains(owners, x.OwnerStaffID) {
			owners = append(owners, x.OwnerStaffID)
		}
	}
	names := map[string]*staff.Staff{}
	if len(owners) > 0 && s.cfg.Sender != nil {
		if names, err = s.cfg.Staff.ByIDs(ctx, owners); err != nil {
			return err
		}
	}
	sups := map[string][]*staff.Staff{}
	for _, x := range due {
		list, ok := sups[x.CommunityID]
		if !ok {
			if list, err = s.cfg.Staff.WithRole(ctx, x.CommunityID, access.Supervisor); err != nil {
				return err
			}
			sups[x.CommunityID] = list
		}
		owner := x.OwnerStaffID
		if s.cfg.Sender != nil {
			if err := s.tellOverdue(ctx, x, list, names[owner]); err != nil {
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

// tellOverdue sends the overdue notice of x to its supervisors and, in its
// own words, to its owner (who is not told twice when a supervisor).
func (s *Service) tellOverdue(ctx context.Context, x *Enquiry, sups []*staff.Staff, owner *staff.Staff) error {
	loc := time.FixedZone("CST", 8*3600)
	if s.cfg.Zone != nil {
		loc = s.cfg.Zone(x.CommunityID)
	}
	by := x.PromisedBy.In(loc)
	vars := func(mine bool) map[string]any {
		v := map[string]any{"question": summary(x.Question), "mine": mine,
			"promised": fmt.Sprintf("%d月%d日 %s", by.Month(), by.Day(), by.Format("15:04")), "promisedEN": by.Format("2 Jan 15:04")}
		if owner != nil {
			v["owner"] = owner.Name
		}
		return v
	}
	data := map[string]string{"enquiryId": x.ID, "ownerStaffId": x.OwnerStaffID}
	key := "enquiry:" + x.ID + ":overdue:" + x.OwnerStaffID
	var rs []notify.Recipient
	for _, st := range sups {
		if st.ID != x.OwnerStaffID {
			rs = append(rs, notify.Recipient{Kind: auth.KindStaff, ID: st.ID, CommunityID: x.CommunityID})
		}
	}
	if len(rs) > 0 {
		if _, err := s.cfg.Sender.Send(ctx, notify.Message{Kind: notify.EnquiryOverdue, Key: key, Recipients: rs, Vars: vars(false), Data: data}); err != nil {
			return err
		}
	}
	if x.OwnerStaffID == "" {
		return nil
	}
	_, err := s.cfg.Sender.Send(ctx, notify.Message{Kind: notify.EnquiryOverdue, Key: key + ":owner", Vars: vars(true), Data: data,
		Recipients: []notify.Recipient{{Kind: auth.KindStaff, ID: x.OwnerStaffID, CommunityID: x.CommunityID}}})
	return err
}

func summary(s string) string {
	r := []rune(s)
	if len(r) > 30 {
		return string(r[:30]) + "…"
	}
	return s
}
