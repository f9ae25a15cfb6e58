package fee

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// MaxCancelReason bounds a cancellation's reason, shown to the household.
const MaxCancelReason = 200

// Refusals of a cancellation, each saying what to do instead.
var (
	ErrCancelPaid      = apperr.New(apperr.Conflict, "fee.cancel_paid")
	ErrCancelAllocated = apperr.New(apperr.Conflict, "fee.cancel_allocated")
	ErrCancelWaived    = apperr.New(apperr.Conflict, "fee.cancel_waived")
	ErrCancelled       = apperr.New(apperr.Conflict, "fee.already_cancelled")
	ErrNotCancelled    = apperr.New(apperr.Conflict, "fee.reissue_not_cancelled")
	ErrReissueSkipped  = apperr.New(apperr.Conflict, "fee.reissue_no_area")
	ErrReissueNothing  = apperr.New(apperr.Conflict, "fee.reissue_nothing")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"fee.cancel_paid":           {ZH: "账单已缴清，不能取消；如需更正，请先办理退款", EN: "The bill is paid and cannot be cancelled; refund the payment first"},
		"fee.cancel_allocated":      {ZH: "账单已收款 %s 元，请先办理退款再取消", EN: "%s yuan has been paid on the bill; refund it before cancelling"},
		"fee.cancel_waived":         {ZH: "账单已全额减免，无需取消", EN: "The bill is relieved in full and needs no cancelling"},
		"fee.already_cancelled":     {ZH: "账单已取消", EN: "The bill is already cancelled"},
		"fee.reissue_not_cancelled": {ZH: "只有已取消的账单可以重新出账", EN: "Only a cancelled bill can be reissued"},
		"fee.reissue_no_area":       {ZH: "该房屋没有建筑面积，无法计算物业费；请先更正房屋资料", EN: "The household has no floor area for the management fee; correct the register first"},
		"fee.reissue_nothing":       {ZH: "按现行收费标准，该房屋本期没有应收费用", EN: "Under the schedule in force the household owes nothing for the period"},
	})
}

// CancelBill withdraws a bill (CANCELLED) with the reason, recording who
// and when on its timeline: supervisors and finance clerks of its
// community (ManagesSchedule, who issue bills). A bill with money on it is
// refused (refund first), as is one already paid, waived or cancelled. The
// step is guarded by the bill's version, so a payment landing meanwhile
// makes it read the bill again and refuse. A cancelled bill owes nothing:
// it leaves the arrears, the reminders and the collection rate.
func (s *Service) CancelBill(ctx context.Context, c *access.Caller, id, reason string) (*Bill, error) {
	reason, err := validate.Text("reason", reason, true, MaxCancelReason)
	if err != nil {
		return nil, err
	}
	b, err := s.Bill(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if !ManagesSchedule(c, b.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	store := lifecycle.NewStore(&mongo.DB{Database: s.bills.Database()}, colBills, s.now)
	for attempt := 0; ; attempt++ {
		if err := cancellable(b); err != nil {
			return nil, err
		}
		now := s.now().UTC()
		entry := lifecycle.Entry{At: now, Action: "cancel", From: string(b.Status), To: string(Cancelled), ActorID: c.ID, ActorKind: string(c.Kind), Note: reason}
		var out Bill
		err := store.Apply(ctx, b.ID, b.Version, entry, bson.D{{Key: "cancelReason", Value: reason}, {Key: "cancelledAt", Value: now}}, &out)
		if err == nil {
			return &out, nil
		}
		if !errors.Is(err, lifecycle.ErrStale) || attempt >= allocateRetries {
			return nil, fmt.Errorf("cancel bill %s: %w", b.ID, err)
		}
		if b, err = mongo.FindByID[Bill](ctx, s.bills, b.ID, ErrBillNotFound.WithField("id")); err != nil {
			return nil, err
		}
	}
}

// cancellable says why b cannot be cancelled, if it cannot.
func cancellable(b *Bill) error {
	switch {
	case b.Status == Cancelled:
		return ErrCancelled
	case b.Status == Waived:
		return ErrCancelWaived
	case b.Status == Paid:
		return ErrCancelPaid
	case b.Paid > 0 || len(b.Allocations) > 0:
		return ErrCancelAllocated.WithArgs(Yuan(b.Paid))
	}
	return nil
}

// ReissueBill issues a cancelled bill again (更正重开), computed afresh
// from the register as it is now (a corrected floor area) and the
// schedule in force for the period, with relief granted for it and the
// shared charges as split when the period was first billed. The new bill's
// id is derived from the cancelled one's ("<billId>~2", then "~3"), so
// reissuing twice makes one bill, and generateBills, whose ids are the
// household's first, never makes a second bill for the period: a
// cancellation is final until staff reissue. dueDate empty keeps the
// cancelled bill's. The household is told (FEE_BILL_ISSUED). Who:
// ManagesSchedule, as for cancelling.
func (s *Service) ReissueBill(ctx context.Context, c *access.Caller, id, dueDate string) (*Bill, error) {
	if dueDate != "" && !dateRe.MatchString(dueDate) {
		return nil, apperr.Invalid("dueDate", "fee.bad_date")
	}
	old, err := s.Bill(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if !ManagesSchedule(c, old.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	if old.Status != Cancelled {
		return nil, ErrNotCancelled
	}
	if old.ReplacedBy != "" {
		return mongo.FindByID[Bill](ctx, s.bills, old.ReplacedBy, ErrBillNotFound.WithField("id"))
	}
	if dueDate == "" {
		dueDate = old.DueDate
	}
	hs, err := s.households.ByIDs(ctx, []string{old.HouseholdID})
	if err != nil {
		return nil, err
	}
	h := hs[old.HouseholdID]
	if h == nil {
		return nil, ErrHouseholdNotFound.WithField("id")
	}
	run, err := s.newRun(ctx, c, old.CommunityID, old.Period, dueDate)
	if err != nil {
		return nil, err
	}
	spaces, reliefs, err := run.inputs(ctx, []string{h.ID})
	if err != nil {
		return nil, err
	}
	b, skipped := run.bill(h, nextBillID(old.ID), spaces[h.ID], reliefs[h.ID], s.now().UTC())
	if skipped {
		return nil, ErrReissueSkipped
	}
	if b == nil {
		return nil, ErrReissueNothing
	}
	b.Replaces = old.ID
	b.Timeline[0].Action = "reissue"
	b.Timeline[0].Data = map[string]any{"replaces": old.ID}
	present, err := insertIgnoringDuplicates(ctx, s.bills, []any{b})
	if err != nil {
		return nil, err
	}
	if err := s.linkReplacement(ctx, c, old, b.ID); err != nil {
		return nil, err
	}
	if err := s.announce(ctx, []any{b}, present); err != nil {
		return nil, err
	}
	return mongo.FindByID[Bill](ctx, s.bills, b.ID, ErrBillNotFound.WithField("id"))
}

// linkReplacement names the replacement on the cancelled bill, a guarded
// step that leaves it CANCELLED; done already, it changes nothing.
func (s *Service) linkReplacement(ctx context.Context, c *access.Caller, old *Bill, replacement string) error {
	store := lifecycle.NewStore(&mongo.DB{Database: s.bills.Database()}, colBills, s.now)
	for attempt := 0; ; attempt++ {
		if old.ReplacedBy != "" {
			return nil
		}
		entry := lifecycle.Entry{At: s.now().UTC(), Action: "reissue", From: string(Cancelled), To: string(Cancelled), ActorID: c.ID, ActorKind: string(c.Kind),
			Data: map[string]any{"replacedBy": replacement}}
		var out Bill
		err := store.Apply(ctx, old.ID, old.Version, entry, bson.D{{Key: "replacedBy", Value: replacement}}, &out)
		if err == nil {
			return nil
		}
		if !errors.Is(err, lifecycle.ErrStale) || attempt >= allocateRetries {
			return fmt.Errorf("link reissued bill %s: %w", old.ID, err)
		}
		var ferr error
		if old, ferr = mongo.FindByID[Bill](ctx, s.bills, old.ID, ErrBillNotFound.WithField("id")); ferr != nil {
			return ferr
		}
	}
}

// nextBillID is the id of the bill reissued for cancelled bill id: the
// household's first bill of a period has the derived id, its replacements
// "~2", "~3" after it.
func nextBillID(id string) string {
	base, n := id, 1
	if i := strings.LastIndexByte(id, '~'); i > 0 {
		if k, err := strconv.Atoi(id[i+1:]); err == nil {
			base, n = id[:i], k
		}
	}
	return base + "~" + strconv.Itoa(n+1)
}
