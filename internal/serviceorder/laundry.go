package serviceorder

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/catalog"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/validate"
)

// Condition of a laundry item, noted at pick-up and again on return.
type Condition struct {
	Stains         bool   `bson:"stains"`
	Damage         bool   `bson:"damage"`
	MissingButtons bool   `bson:"missingButtons"`
	Note           string `bson:"note,omitempty"`
}

// worseThan reports a defect on return that was not there at pick-up.
func (c Condition) worseThan(before Condition) bool {
	return (c.Stains && !before.Stains) || (c.Damage && !before.Damage) || (c.MissingButtons && !before.MissingButtons)
}

// LaundryItem is one line of a laundry order: a kind of garment, how many,
// their condition at pick-up and, once checked back, on return.
type LaundryItem struct {
	Type            string     `bson:"type"` // 衬衫, 羽绒服, 床单...
	Count           int        `bson:"count"`
	Condition       Condition  `bson:"condition"`
	ReturnedCount   *int       `bson:"returnedCount,omitempty"`
	ReturnCondition *Condition `bson:"returnCondition,omitempty"`
}

// Missing is how many did not come back (0 until checked).
func (it *LaundryItem) Missing() int {
	if it.ReturnedCount == nil {
		return 0
	}
	return max(it.Count-*it.ReturnedCount, 0)
}

// NewlyDamaged reports a defect found on return that was not noted at pick-up.
func (it *LaundryItem) NewlyDamaged() bool {
	return it.ReturnCondition != nil && it.ReturnCondition.worseThan(it.Condition)
}

// Laundry is a laundry order's item list and its two checks.
type Laundry struct {
	Items              []LaundryItem `bson:"items"`
	PromisedReturnDate string        `bson:"promisedReturnDate,omitempty"` // YYYY-MM-DD, set at pick-up
	PickedUpAt         *time.Time    `bson:"pickedUpAt,omitempty"`
	PickedUpBy         string        `bson:"pickedUpBy,omitempty"`
	ReturnedAt         *time.Time    `bson:"returnedAt,omitempty"`
	ReturnedBy         string        `bson:"returnedBy,omitempty"`
	ReturnNote         string        `bson:"returnNote,omitempty"`
	// Discrepancy: on return, something was missing or newly damaged; the
	// supervisors were told.
	Discrepancy bool `bson:"discrepancy"`
}

// Count is the number of garments.
func (l *Laundry) Count() int {
	n := 0
	for _, it := range l.Items {
		n += it.Count
	}
	return n
}

// cleanLaundry validates an item list, naming the field that is wrong.
func cleanLaundry(field string, items []LaundryItem, required bool) ([]LaundryItem, error) {
	if len(items) == 0 && required {
		return nil, apperr.Invalid(field, "input.required")
	}
	if len(items) > 50 {
		return nil, apperr.Invalid(field, "input.too_many", 50)
	}
	out := make([]LaundryItem, len(items))
	for i, it := range items {
		f := field + "." + strconv.Itoa(i)
		var err error
		if it.Type, err = validate.Text(f+".type", it.Type, true, 30); err != nil {
			return nil, err
		}
		if it.Count < 1 || it.Count > 500 {
			return nil, apperr.Invalid(f+".count", "input.out_of_range", 1, 500)
		}
		if it.Condition.Note, err = validate.Text(f+".condition.note", it.Condition.Note, false, 200); err != nil {
			return nil, err
		}
		out[i] = LaundryItem{Type: it.Type, Count: it.Count, Condition: it.Condition}
	}
	return out, nil
}

// Pickup is what staff record when they collect laundry: the items as
// counted (replacing the owner's list when given) and the promised return.
type Pickup struct {
	Items              []LaundryItem
	PromisedReturnDate string
}

// pickupChange builds the $set of a laundry pick-up (part of the start step).
func (s *Service) pickupChange(c *access.Caller, o *Order, p *Pickup, now time.Time) (bson.D, error) {
	if !o.IsLaundry() {
		if p != nil {
			return nil, ErrNotLaundry.WithField("laundry")
		}
		return nil, nil
	}
	if p == nil || p.PromisedReturnDate == "" {
		return nil, apperr.Invalid("laundry.promisedReturnDate", "input.required")
	}
	loc := s.cfg.Zones(o.CommunityID)
	due, err := time.ParseInLocation("2006-01-02", p.PromisedReturnDate, loc)
	if err != nil {
		return nil, apperr.Invalid("laundry.promisedReturnDate", "input.bad_date")
	}
	if due.Format("2006-01-02") < now.In(loc).Format("2006-01-02") {
		return nil, apperr.Invalid("laundry.promisedReturnDate", "serviceorder.return_before")
	}
	l := *o.Laundry
	if len(p.Items) > 0 {
		if l.Items, err = cleanLaundry("laundry.items", p.Items, true); err != nil {
			return nil, err
		}
	}
	l.PromisedReturnDate, l.PickedUpAt, l.PickedUpBy = p.PromisedReturnDate, &now, c.ID
	set := bson.D{{Key: "laundry", Value: l}}
	if o.Line.Unit == catalog.PerItem {
		set = append(set, bson.E{Key: "quantity", Value: float64(l.Count())})
	}
	return set, nil
}

// Return is one item checked back: its index in the list, how many came
// back and their condition.
type Return struct {
	Index         int
	ReturnedCount int
	Condition     Condition
}

// RecordLaundryReturn checks each item back. Anything missing or newly
// damaged flags a discrepancy on the order and tells the community's
// supervisors.
func (s *Service) RecordLaundryReturn(ctx context.Context, c *access.Caller, id string, returns []Return, note string) (*Order, error) {
	note, err := validate.Text("note", note, false, 500)
	if err != nil {
		return nil, err
	}
	var issues []string
	o, err := s.do(ctx, c, id, step{Action: "laundry_return", Note: note,
		May: func(c *access.Caller, o *Order) error {
			if err := isServing(c, o); err != nil {
				return err
			}
			if !o.IsLaundry() {
				return ErrNotLaundry.WithField("id")
			}
			if o.Laundry.ReturnedAt != nil {
				return ErrAlreadyReturned
			}
			return nil
		},
		Change: func(o *Order, _ Status, now time.Time) (bson.D, bson.D, error) {
			l := *o.Laundry
			l.Items = append([]LaundryItem(nil), l.Items...)
			seen := make([]bool, len(l.Items))
			if len(returns) != len(l.Items) {
				return nil, nil, apperr.Invalid("items", "serviceorder.return_incomplete")
			}
			for i, r := range returns {
				f := "items." + strconv.Itoa(i)
				if r.Index < 0 || r.Index >= len(l.Items) || seen[r.Index] {
					return nil, nil, apperr.Invalid(f+".index", "serviceorder.return_incomplete")
				}
				seen[r.Index] = true
				it := &l.Items[r.Index]
				if r.ReturnedCount < 0 || r.ReturnedCount > it.Count {
					return nil, nil, apperr.Invalid(f+".returnedCount", "input.out_of_range", 0, it.Count)
				}
				cond := r.Condition
				var bad error
				if cond.Note, bad = validate.Text(f+".condition.note", cond.Note, false, 200); bad != nil {
					return nil, nil, bad
				}
				n := r.ReturnedCount
				it.ReturnedCount, it.ReturnCondition = &n, &cond
				if it.Missing() > 0 {
					issues = append(issues, fmt.Sprintf("%s少%d件", it.Type, it.Missing()))
				}
				if it.NewlyDamaged() {
					issues = append(issues, it.Type+"有新的污渍或破损")
				}
			}
			l.ReturnedAt, l.ReturnedBy, l.ReturnNote, l.Discrepancy = &now, c.ID, note, len(issues) > 0
			return bson.D{{Key: "laundry", Value: l}}, nil, nil
		}})
	if err != nil {
		return nil, err
	}
	if len(issues) > 0 {
		if err := s.tellSupervisors(ctx, o, issues); err != nil && s.cfg.Log != nil {
			// The return is recorded and flagged on the order; the notice is retried by nobody, so log it loudly.
			s.cfg.Log.ErrorContext(ctx, "laundry discrepancy notice", "order", o.ID, "err", err)
		}
	}
	return o, nil
}

// tellSupervisors sends the discrepancy to the community's supervisors,
// once per order (the key).
func (s *Service) tellSupervisors(ctx context.Context, o *Order, issues []string) error {
	if s.cfg.Sender == nil {
		return nil
	}
	sups, err := s.cfg.Staff.WithRole(ctx, o.CommunityID, access.Supervisor)
	if err != nil {
		return err
	}
	rs := make([]notify.Recipient, 0, len(sups))
	for _, st := range sups {
		rs = append(rs, notify.Recipient{Kind: auth.KindStaff, ID: st.ID, CommunityID: o.CommunityID})
	}
	if len(rs) == 0 {
		return nil
	}
	what := strings.Join(issues, "；")
	_, err = s.cfg.Sender.Send(ctx, notify.Message{
		Kind: notify.ServiceOrderUpdate, Key: "serviceorder:" + o.ID + ":laundry-discrepancy", Recipients: rs,
		Vars: map[string]any{"statusText": "洗衣异常", "statusTextEN": "laundry discrepancy",
			"text":   fmt.Sprintf("%s 的洗衣订单送回时发现异常：%s。请核实处理。", o.HouseholdLabel, what),
			"textEN": fmt.Sprintf("The laundry order of %s came back with missing or newly damaged items; please look into it.", o.HouseholdLabel)},
		Data: map[string]string{"serviceOrderId": o.ID, "status": string(o.Status), "discrepancy": "true"},
	})
	return err
}
