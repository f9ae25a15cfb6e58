package serviceorder

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/catalog"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
)

// The order keeps the price it was booked at: a later price change (or
// retiring the item) alters new bookings only; the history keeps both prices.
func TestPriceChangeKeepsBookedPrice(t *testing.T) {
	f := newFixture(t)
	o := f.book(f.ownerA, f.ha, f.cleaning, 2)
	edit := catalog.ItemInput{ID: f.cleaning.ID, CommunityID: f.x.ID, Name: f.cleaning.Name, Category: f.cleaning.Category,
		PriceFen: 6500, Unit: f.cleaning.Unit, Windows: f.cleaning.Windows}
	changed, err := f.cat.Upsert(f.ctx, f.supervisor, edit)
	f.must(err)
	got, err := f.svc.Get(f.ctx, f.ownerA, o.ID)
	f.must(err)
	if base, _ := got.Charges(); got.Line.PriceFen != 5000 || base != 10000 {
		t.Fatalf("booked order now costs %d per hour, %d in all; want 5000, 10000", got.Line.PriceFen, base)
	}
	if fresh := f.book(f.ownerB, f.hb, f.cleaning, 2); fresh.Line.PriceFen != 6500 {
		t.Fatalf("a new booking costs %d, want the new price", fresh.Line.PriceFen)
	}
	h, _ := catalog.PriceHistory(f.supervisor, changed)
	if len(h) != 2 || h[0].NewPriceFen != 5000 || *h[1].OldPriceFen != 5000 || h[1].NewPriceFen != 6500 {
		t.Fatalf("history = %+v", h)
	}
	// Retiring the item stops new bookings; the booked order carries on.
	_, err = f.cat.Retire(f.ctx, f.supervisor, f.cleaning.ID)
	f.must(err)
	if _, err := f.svc.Book(f.ctx, f.ownerA, BookInput{HouseholdID: f.ha.ID, ItemID: f.cleaning.ID, Slot: f.tuesday, Quantity: 1}); fieldOf(err) != "input.itemId" {
		t.Fatalf("booking a retired item: %v", err)
	}
	f.ok("confirm after retiring", Confirmed)(f.svc.Confirm(f.ctx, f.butler, o.ID, f.cleaner.ID, nil, ""))
}

func fieldOf(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Field
	}
	return ""
}

// Who books what, when: an owner or family member for their own household,
// an active item of its community, in a bookable window, not in the past.
func TestBookingRules(t *testing.T) {
	f := newFixture(t)
	in := func(edit func(*BookInput)) BookInput {
		b := BookInput{HouseholdID: f.ha.ID, ItemID: f.cleaning.ID, Slot: f.tuesday, Quantity: 2}
		edit(&b)
		return b
	}
	yItem, err := f.cat.Upsert(f.ctx, f.supervisorY, catalog.ItemInput{CommunityID: f.y.ID, Name: "保洁", Category: catalog.HomeCleaning,
		PriceFen: 4000, Unit: catalog.PerVisit, Windows: f.cleaning.Windows})
	f.must(err)
	for _, tc := range []struct {
		name  string
		c     *access.Caller
		in    BookInput
		want  error
		field string
	}{
		{"a neighbour for another household", f.ownerB, in(func(*BookInput) {}), household.ErrNotFound, ""},
		{"a tenant", f.tenantA, in(func(*BookInput) {}), apperr.ErrForbidden, ""},
		{"staff as a resident", f.butler, in(func(*BookInput) {}), apperr.ErrForbidden, ""},
		{"an item of another community", f.ownerA, in(func(b *BookInput) { b.ItemID = yItem.ID }), catalog.ErrNotFound, "input.itemId"},
		{"a Saturday", f.ownerA, in(func(b *BookInput) { b.Slot.Date = "2026-11-28" }), nil, "input.slot"},
		{"before opening", f.ownerA, in(func(b *BookInput) { b.Slot.From = "07:00" }), nil, "input.slot"},
		{"past closing", f.ownerA, in(func(b *BookInput) { b.Slot.To = "18:30" }), nil, "input.slot"},
		{"last Friday", f.ownerA, in(func(b *BookInput) { b.Slot.Date = "2026-11-20" }), nil, "input.slot.date"},
		{"not a date", f.ownerA, in(func(b *BookInput) { b.Slot.Date = "2026-02-30" }), nil, "input.slot.date"},
		{"not a time", f.ownerA, in(func(b *BookInput) { b.Slot.From = "9点" }), nil, "input.slot.from"},
		{"ends before it starts", f.ownerA, in(func(b *BookInput) { b.Slot.To = "08:30" }), nil, "input.slot.to"},
		{"no hours", f.ownerA, in(func(b *BookInput) { b.Quantity = 0 }), nil, "input.quantity"},
		{"laundry items on a cleaning", f.ownerA, in(func(b *BookInput) { b.Laundry = []LaundryItem{{Type: "衬衫", Count: 1}} }), nil, "input.laundryItems"},
		{"laundry without items", f.ownerA, in(func(b *BookInput) { b.ItemID = f.laundry.ID }), nil, "input.laundryItems"},
		{"laundry count 0", f.ownerA, in(func(b *BookInput) {
			b.ItemID, b.Laundry = f.laundry.ID, []LaundryItem{{Type: "衬衫", Count: 0}}
		}), nil, "input.laundryItems.0.count"},
		{"long notes", f.ownerA, in(func(b *BookInput) { b.Notes = strings.Repeat("很", 501) }), nil, "input.notes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Book(f.ctx, tc.c, tc.in)
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.field != "" && (fieldOf(err) != tc.field || err == nil) {
				t.Fatalf("err = %v, want one on %s", err, tc.field)
			}
		})
	}
	if n, _ := f.db.Collection("service_orders").CountDocuments(f.ctx, bson.D{}); n != 0 {
		t.Fatalf("%d orders stored by refused bookings", n)
	}
	// Family members book; a per-visit item defaults to one visit.
	visit := f.item(catalog.ItemInput{CommunityID: f.x.ID, Name: "搬家协助", Category: catalog.MovingHelp, PriceFen: 20000, Unit: catalog.PerVisit, Windows: f.cleaning.Windows})
	o, err := f.svc.Book(f.ctx, f.familyA, BookInput{HouseholdID: f.ha.ID, ItemID: visit.ID, Slot: f.tuesday, Notes: "冰箱一台"})
	f.must(err)
	if o.Quantity != 1 || o.BookedBy != f.familyA.ID || o.Slot.Start != time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC) || o.Payment.Status != Unpaid {
		t.Fatalf("booked: %+v slot %+v", o, o.Slot)
	}
}

// Handlers record payment at the counter; only the community's supervisors
// waive (with a reason) or set a record back; free orders are never charged.
func TestPaymentPermissions(t *testing.T) {
	f := newFixture(t)
	ctx, s := f.ctx, f.svc
	o := f.book(f.ownerA, f.ha, f.cleaning, 2)
	f.ok("confirm", Confirmed)(s.Confirm(ctx, f.butler, o.ID, f.cleaner.ID, nil, ""))
	f.ok("start", InService)(s.Start(ctx, f.cleaner, o.ID, nil))
	o = f.ok("complete", Done)(s.Complete(ctx, f.cleaner, o.ID, nil, ""))

	f.refused("butler waives", o, apperr.ErrForbidden)(s.SetPayment(ctx, f.butler, o.ID, Waived, "困难家庭"))
	f.refused("admin waives", o, apperr.ErrForbidden)(s.SetPayment(ctx, f.admin, o.ID, Waived, "困难家庭"))
	f.refused("cleaner records payment", o, apperr.ErrForbidden)(s.SetPayment(ctx, f.cleaner, o.ID, PaidAtCounter, ""))
	f.refused("owner records payment", o, apperr.ErrForbidden)(s.SetPayment(ctx, f.ownerA, o.ID, PaidAtCounter, ""))
	f.refused("supervisor of another community", o, ErrNotFound)(s.SetPayment(ctx, f.supervisorY, o.ID, Waived, "困难家庭"))
	f.refused("waive without a reason", o, apperr.Invalid("reason", "input.required"))(s.SetPayment(ctx, f.supervisor, o.ID, Waived, ""))
	f.refused("set it free", o, apperr.Invalid("status", "input.bad_value"))(s.SetPayment(ctx, f.supervisor, o.ID, Free, "x"))
	f.refused("unpaid is already unpaid", o, ErrPaymentSame)(s.SetPayment(ctx, f.supervisor, o.ID, Unpaid, "x"))

	o = f.ok("butler records payment at the counter", Done)(s.SetPayment(ctx, f.butler, o.ID, PaidAtCounter, ""))
	if o.Payment.Status != PaidAtCounter || o.Payment.StaffID != f.butler.ID || o.Payment.At == nil {
		t.Fatalf("payment = %+v", o.Payment)
	}
	f.refused("paid twice", o, ErrPaymentSame)(s.SetPayment(ctx, f.supervisor, o.ID, PaidAtCounter, ""))
	f.refused("waive what was paid", o, apperr.Invalid("status", "serviceorder.bad_payment_step"))(s.SetPayment(ctx, f.supervisor, o.ID, Waived, "x"))
	f.refused("butler sets it back", o, apperr.ErrForbidden)(s.SetPayment(ctx, f.butler, o.ID, Unpaid, "记错了"))
	o = f.ok("supervisor sets it back", Done)(s.SetPayment(ctx, f.supervisor, o.ID, Unpaid, "记错了"))
	o = f.ok("supervisor waives", Done)(s.SetPayment(ctx, f.supervisor, o.ID, Waived, "困难家庭减免"))
	if o.Payment.Status != Waived || o.Payment.Reason != "困难家庭减免" || o.Payment.StaffID != f.supervisor.ID {
		t.Fatalf("waived = %+v", o.Payment)
	}
	f.ok("accept", Accepted)(s.Accept(ctx, f.ownerA, o.ID, 5, ""))

	// A free order: extras refused, never charged.
	id, err := s.CreateFreeCleaning(ctx, f.ha.ID, "renovation:r1", "")
	f.must(err)
	free, err := s.Confirm(ctx, f.butler, id, f.cleaner.ID, &f.tuesday, "")
	f.must(err)
	f.ok("start", InService)(s.Start(ctx, f.cleaner, id, nil))
	free, _ = s.byID(ctx, free.ID)
	f.refused("extras on a free order", free, ErrChargesWhenFree)(s.Complete(ctx, f.cleaner, id, []Extra{{Name: "清洁剂", AmountFen: 100}}, ""))
	free = f.ok("complete free", Done)(s.Complete(ctx, f.cleaner, id, nil, ""))
	f.refused("charge a free order", free, apperr.Invalid("status", "serviceorder.free_never_charged"))(s.SetPayment(ctx, f.butler, id, PaidAtCounter, ""))
	if base, extras := free.Charges(); base+extras != 0 || free.Payment.Status != Free {
		t.Fatalf("free order charges %d, payment %s", base+extras, free.Payment.Status)
	}
}

// A renovation's completion grants one free cleaning per source, however
// often (or concurrently) it asks; the line comes from the community's free
// cleaning item when it has one.
func TestCreateFreeCleaning(t *testing.T) {
	f := newFixture(t)
	ctx, s := f.ctx, f.svc
	var (
		wg  sync.WaitGroup
		ids = make([]string, 6)
		ers = make([]error, 6)
	)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i], ers[i] = s.CreateFreeCleaning(ctx, f.ha.ID, "renovation:r1", "装修完工")
		}()
	}
	wg.Wait()
	for i := range ids {
		if ers[i] != nil || ids[i] != ids[0] {
			t.Fatalf("call %d: %q %v; first %q", i, ids[i], ers[i], ids[0])
		}
	}
	if n, _ := f.db.Collection("service_orders").CountDocuments(ctx, bson.D{}); n != 1 {
		t.Fatalf("%d orders for one source", n)
	}
	o, err := s.Get(ctx, f.ownerA, ids[0])
	f.must(err)
	if o.Line.Name != FreeCleaningLine || !o.Line.Free || o.Line.ItemID != "" || o.Line.Category != catalog.HomeCleaning ||
		o.Status != Booked || o.Slot != nil || o.BookedBy != "" || o.Payment.Status != Free || o.Notes != "装修完工" {
		t.Fatalf("granted: %+v", o)
	}
	if o.Timeline[0].Action != "grant" || o.Timeline[0].ActorID != SystemActor {
		t.Fatalf("timeline: %+v", o.Timeline)
	}
	f.refused("confirm with no slot agreed", o, apperr.Invalid("slot", "serviceorder.slot_required"))(s.Confirm(ctx, f.butler, o.ID, f.cleaner.ID, nil, ""))
	f.ok("confirm with a slot", Confirmed)(s.Confirm(ctx, f.butler, o.ID, f.cleaner.ID, &SlotInput{Date: "2026-11-29", From: "10:00", To: "12:00"}, ""))

	gift := f.item(catalog.ItemInput{CommunityID: f.x.ID, Name: "深度保洁（赠送）", Category: catalog.HomeCleaning, Free: true, Unit: catalog.PerVisit, Windows: f.cleaning.Windows})
	id, err := s.CreateFreeCleaning(ctx, f.hb.ID, "renovation:r2", "")
	f.must(err)
	o2, err := s.byID(ctx, id)
	f.must(err)
	if o2.Line.ItemID != gift.ID || o2.Line.Name != gift.Name || o2.HouseholdID != f.hb.ID {
		t.Fatalf("granted from the item: %+v", o2.Line)
	}
	if _, err := s.CreateFreeCleaning(ctx, "0123456789abcdef01234567", "renovation:r3", ""); !errors.Is(err, household.ErrNotFound) {
		t.Fatalf("unknown household: %v", err)
	}
	if _, err := s.CreateFreeCleaning(ctx, f.ha.ID, " ", ""); fieldOf(err) != "source" {
		t.Fatalf("no source: %v", err)
	}
}

// A laundry order is counted at pick-up and checked back on return; a
// missing or newly damaged item flags a discrepancy and tells the
// community's supervisors, once.
func TestLaundryReturnFlagsDiscrepancy(t *testing.T) {
	f := newFixture(t)
	ctx, s := f.ctx, f.svc
	o, err := s.Book(ctx, f.ownerA, BookInput{HouseholdID: f.ha.ID, ItemID: f.laundry.ID, Slot: f.tuesday,
		Laundry: []LaundryItem{{Type: "衬衫", Count: 3}, {Type: "羽绒服", Count: 1, Condition: Condition{Stains: true, Note: "袖口油渍"}}}})
	f.must(err)
	if base, _ := o.Charges(); o.Quantity != 4 || base != 3200 {
		t.Fatalf("booked %v items for %d fen", o.Quantity, base)
	}
	f.ok("confirm", Confirmed)(s.Confirm(ctx, f.butler, o.ID, f.cleaner.ID, nil, ""))
	o, _ = s.byID(ctx, o.ID)
	f.refused("pick-up without a return date", o, apperr.Invalid("laundry.promisedReturnDate", "input.required"))(s.Start(ctx, f.cleaner, o.ID, nil))
	f.refused("return date in the past", o, apperr.Invalid("laundry.promisedReturnDate", "serviceorder.return_before"))(s.Start(ctx, f.cleaner, o.ID, &Pickup{PromisedReturnDate: "2026-11-21"}))
	o = f.ok("pick up", InService)(s.Start(ctx, f.cleaner, o.ID, &Pickup{PromisedReturnDate: "2026-11-26", Items: []LaundryItem{
		{Type: "衬衫", Count: 3}, {Type: "羽绒服", Count: 1, Condition: Condition{Stains: true}}, {Type: "床单", Count: 2}}}))
	if o.Quantity != 6 || o.Laundry.PickedUpBy != f.cleaner.ID || o.Laundry.PromisedReturnDate != "2026-11-26" {
		t.Fatalf("picked up: quantity %v, %+v", o.Quantity, o.Laundry)
	}
	f.refused("done before the return is checked", o, ErrReturnPending)(s.Complete(ctx, f.cleaner, o.ID, nil, ""))
	f.refused("an item left out", o, apperr.Invalid("items", "serviceorder.return_incomplete"))(s.RecordLaundryReturn(ctx, f.cleaner, o.ID, []Return{{Index: 0, ReturnedCount: 3}}, ""))
	f.refused("an item twice", o, apperr.Invalid("items.2.index", "serviceorder.return_incomplete"))(s.RecordLaundryReturn(ctx, f.cleaner, o.ID,
		[]Return{{Index: 0, ReturnedCount: 3}, {Index: 1, ReturnedCount: 1}, {Index: 1, ReturnedCount: 1}}, ""))
	f.refused("more back than went", o, apperr.Invalid("items.0.returnedCount", "input.out_of_range"))(s.RecordLaundryReturn(ctx, f.cleaner, o.ID,
		[]Return{{Index: 0, ReturnedCount: 4}, {Index: 1, ReturnedCount: 1}, {Index: 2, ReturnedCount: 2}}, ""))
	f.refused("the owner checks it back", o, apperr.ErrForbidden)(s.RecordLaundryReturn(ctx, f.ownerA, o.ID, nil, ""))

	o = f.ok("return", InService)(s.RecordLaundryReturn(ctx, f.cleaner, o.ID, []Return{
		{Index: 2, ReturnedCount: 2, Condition: Condition{Damage: true, Note: "一角撕裂"}}, // newly damaged
		{Index: 1, ReturnedCount: 1, Condition: Condition{Stains: true}},               // stained before: no news
		{Index: 0, ReturnedCount: 2}, // one shirt missing
	}, "少一件衬衫"))
	l := o.Laundry
	if !l.Discrepancy || l.Items[0].Missing() != 1 || l.Items[1].NewlyDamaged() || !l.Items[2].NewlyDamaged() || l.ReturnedAt == nil {
		t.Fatalf("return: %+v", l)
	}
	told := f.inbox(f.supervisor, notify.ServiceOrderUpdate)
	if len(told) != 1 || !strings.Contains(told[0].Body, "衬衫少1件") || !strings.Contains(told[0].Body, "床单") || told[0].Data["serviceOrderId"] != o.ID {
		t.Fatalf("supervisor told: %+v", told)
	}
	for name, c := range map[string]*access.Caller{"butler": f.butler, "other supervisor": f.supervisorY, "owner": f.ownerA} {
		if n := len(f.inbox(c, notify.ServiceOrderUpdate)); n != 0 {
			t.Errorf("%s got %d discrepancy notices", name, n)
		}
	}
	f.refused("return twice", o, ErrAlreadyReturned)(s.RecordLaundryReturn(ctx, f.cleaner, o.ID, nil, ""))
	f.ok("complete", Done)(s.Complete(ctx, f.cleaner, o.ID, nil, ""))

	// Everything back as it went: no discrepancy, nobody told.
	clean, err := s.Book(ctx, f.ownerA, BookInput{HouseholdID: f.ha.ID, ItemID: f.laundry.ID, Slot: f.tuesday, Laundry: []LaundryItem{{Type: "衬衫", Count: 1}}})
	f.must(err)
	f.ok("confirm", Confirmed)(s.Confirm(ctx, f.butler, clean.ID, f.cleaner.ID, nil, ""))
	f.ok("pick up", InService)(s.Start(ctx, f.cleaner, clean.ID, &Pickup{PromisedReturnDate: "2026-11-22"}))
	clean = f.ok("return", InService)(s.RecordLaundryReturn(ctx, f.butler, clean.ID, []Return{{Index: 0, ReturnedCount: 1}}, ""))
	if clean.Laundry.Discrepancy || len(f.inbox(f.supervisor, notify.ServiceOrderUpdate)) != 1 {
		t.Fatalf("a clean return flagged: %+v", clean.Laundry)
	}
}

// Orders accepted and not called back are listed for the butler task list
// and for the reminders, which prompt the owner to rate, remind the handler
// and, when overdue, the supervisors, each once, naming a service order.
func TestAwaitingCallbackAndReminders(t *testing.T) {
	f := newFixture(t)
	ctx, s := f.ctx, f.svc
	o := f.book(f.ownerA, f.ha, f.cleaning, 1)
	f.ok("confirm", Confirmed)(s.Confirm(ctx, f.butler, o.ID, f.cleaner.ID, nil, ""))
	f.ok("start", InService)(s.Start(ctx, f.cleaner, o.ID, nil))
	f.ok("complete", Done)(s.Complete(ctx, f.cleaner, o.ID, nil, ""))
	acceptedAt := f.now
	f.ok("accept", Accepted)(s.Accept(ctx, f.ownerA, o.ID, 0, ""))

	due, err := s.AwaitingCallback(ctx, f.x.ID, 50)
	f.must(err)
	if len(due) != 1 || due[0].OrderID != o.ID || due[0].HouseholdID != f.ha.ID || !due[0].AcceptedAt.Equal(acceptedAt) || due[0].HandlerID != f.butler.ID {
		t.Fatalf("awaiting = %+v", due)
	}
	if other, _ := s.AwaitingCallback(ctx, f.y.ID, 50); len(other) != 0 {
		t.Fatalf("community Y awaits %+v", other)
	}

	sources := []notify.Source{notify.RepairSource(nil), notify.ServiceOrderSource(s)}
	rem := notify.NewReminders(f.engine, sources, f.staff, notify.ReminderConfig{}, nil)
	for _, step := range []time.Duration{time.Hour, 2 * time.Hour, 25 * time.Hour, 73 * time.Hour, 80 * time.Hour} {
		f.must(rem.Tick(ctx, acceptedAt.Add(step)))
	}
	prompts := f.inbox(f.ownerA, notify.CallbackPromptOwner)
	if len(prompts) != 1 || !strings.Contains(prompts[0].Body, "服务订单「日常保洁」") {
		t.Fatalf("owner prompts: %+v", prompts)
	}
	if due := f.inbox(f.butler, notify.CallbackDue); len(due) != 1 || !strings.Contains(due[0].Body, "服务订单「日常保洁」") {
		t.Fatalf("handler reminders: %+v", due)
	}
	if over := f.inbox(f.supervisor, notify.CallbackDue); len(over) != 1 || !strings.Contains(over[0].Body, "已超时") {
		t.Fatalf("supervisor reminders: %+v", over)
	}
	if n := len(f.inbox(f.supervisorY, notify.CallbackDue)); n != 0 {
		t.Fatalf("community Y's supervisor told %d times", n)
	}

	f.ok("callback", CalledBack)(s.Callback(ctx, f.butler, o.ID, true, ""))
	if due, _ := s.AwaitingCallback(ctx, f.x.ID, 50); len(due) != 0 {
		t.Fatalf("still awaiting after the callback: %+v", due)
	}
}
