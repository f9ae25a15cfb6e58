package fee

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

// Notifier is the notification engine as billing uses it: a batch of
// messages, one per bill, written in a constant number of round trips.
type Notifier interface {
	SendEach(ctx context.Context, msgs []notify.Message) (int, error)
}

// WithNotices lets billing tell households of their new bills
// (FEE_BILL_ISSUED); without it bills are issued silently.
func (s *Service) WithNotices(n Notifier) *Service {
	s.notices = n
	return s
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: colNotices})
}

// announce tells the households of a batch's new bills: docs are the
// batch's bills, present the positions of those an earlier run had
// inserted. Those are told only if that run stopped before telling (an
// announced bill without its bill_notices record), so billing twice never
// tells twice; the engine's keys (one per bill and recipient) make a race
// between two runs harmless too. The cost is constant per batch: the
// members, the tenant settings, the engine's batch and the record of what
// was sent; and, for a batch with bills already present, one read of
// their records (and of the bills, only when some have none).
func (s *Service) announce(ctx context.Context, docs []any, present map[int]bool) error {
	if s.notices == nil {
		return nil
	}
	var bills []*Bill
	var again []string
	for i, d := range docs {
		b := d.(*Bill)
		if present[i] {
			again = append(again, b.ID)
		} else {
			bills = append(bills, b)
		}
	}
	unsent, err := s.unannounced(ctx, again)
	if err != nil {
		return err
	}
	return s.tellIssued(ctx, append(bills, unsent...))
}

// unannounced are those of bills ids that were to be announced and have no
// record of it. The records are read first: on a rerun they cover every
// bill, and the bills themselves are not read at all.
func (s *Service) unannounced(ctx context.Context, ids []string) ([]*Bill, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cur, err := s.noticesSent.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("bill notices sent: %w", err)
	}
	var sent []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &sent); err != nil {
		return nil, fmt.Errorf("bill notices sent: %w", err)
	}
	done := make(map[string]bool, len(sent))
	for _, x := range sent {
		done[x.ID] = true
	}
	var rest []string
	for _, id := range ids {
		if !done[id] {
			rest = append(rest, id)
		}
	}
	if len(rest) == 0 {
		return nil, nil
	}
	cur, err = s.bills.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: rest}}}, {Key: "announced", Value: true}},
		options.Find().SetProjection(bson.D{{Key: "timeline", Value: 0}, {Key: "lines", Value: 0}, {Key: "allocations", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("bills to announce: %w", err)
	}
	var out []*Bill
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("bills to announce: %w", err)
	}
	return out, nil
}

// tellIssued sends FEE_BILL_ISSUED for bills to their households' owners,
// and to tenants where the owners let tenants see the bills, and records
// that they were told.
func (s *Service) tellIssued(ctx context.Context, bills []*Bill) error {
	if len(bills) == 0 || s.notices == nil {
		return nil
	}
	ids := make([]string, 0, len(bills))
	households := make([]string, 0, len(bills))
	for _, b := range bills {
		ids = append(ids, b.ID)
		households = append(households, b.HouseholdID)
	}
	members, err := s.households.MembershipsByHouseholds(ctx, households)
	if err != nil {
		return fmt.Errorf("bill notices: %w", err)
	}
	var tenanted []string
	for hid, ms := range members {
		for _, m := range ms {
			if m.Role == access.Tenant {
				tenanted = append(tenanted, hid)
				break
			}
		}
	}
	tenants, err := s.tenantsAllowed(ctx, tenanted)
	if err != nil {
		return err
	}
	msgs := make([]notify.Message, 0, len(bills))
	for _, b := range bills {
		var rs []notify.Recipient
		for _, m := range members[b.HouseholdID] {
			if m.Role == access.Owner || (m.Role == access.Tenant && tenants[b.HouseholdID]) {
				rs = append(rs, notify.Recipient{Kind: auth.KindPerson, ID: m.PersonID, CommunityID: b.CommunityID})
			}
		}
		if len(rs) == 0 {
			continue
		}
		owed := b.Amount - b.Relieved
		msgs = append(msgs, notify.Message{Kind: notify.FeeBillIssued, Key: b.ID + ":issued", Subject: b.ID, Recipients: rs, At: b.IssuedAt,
			Vars: map[string]any{"label": b.Label, "period": b.Period, "amount": Yuan(owed), "dueDate": b.DueDate,
				"waived": owed <= 0, "reissued": b.Replaces != ""},
			Data: map[string]string{"billId": b.ID, "householdId": b.HouseholdID, "period": b.Period}})
	}
	if _, err := s.notices.SendEach(ctx, msgs); err != nil {
		return fmt.Errorf("bill notices (the bills are issued; billing again sends them): %w", err)
	}
	now := s.now().UTC()
	records := make([]any, len(ids))
	for i, id := range ids {
		records[i] = bson.D{{Key: "_id", Value: id}, {Key: "at", Value: now}}
	}
	if _, err := s.noticesSent.InsertMany(ctx, records, options.InsertMany().SetOrdered(false)); err != nil && !mongo.IsDuplicate(err) {
		return fmt.Errorf("bill notices sent: %w", err)
	}
	return nil
}
