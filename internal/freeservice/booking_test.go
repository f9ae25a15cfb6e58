package freeservice

import (
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/page"
)

// However many households race for a slot, no more than its capacity get
// one: every other booking is CONFLICT naming the slot, and the seats
// stored match the bookings. Two servers' instances share the work.
func TestConcurrentBookingNeverExceedsCapacity(t *testing.T) {
	f := newFixture(t, "")
	x, slots := f.gasCheck(3)
	first := slots[0]
	type booker struct {
		h *household.Household
		c *access.Caller
	}
	bookers := []booker{{f.ha, f.ownerA}, {f.hb, f.ownerB}}
	for range 6 {
		h, c := f.household(f.xb1)
		bookers = append(bookers, booker{h, c})
	}
	servers := []*Service{f.svc, f.service()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, full := 0, 0
	for i, b := range bookers {
		wg.Go(func() {
			_, err := servers[i%2].Book(f.ctx, b.c, x.ID, first.ID, b.h.ID)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrSlotFull):
				full++
				if msg := apperr.Message(mustAppErr(t, err), apperr.ZH); msg != first.label()+" 已约满，请选择其他时段" {
					t.Errorf("full slot message = %q", msg)
				}
			default:
				t.Errorf("booking: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 3 || full != len(bookers)-3 {
		t.Fatalf("%d booked and %d refused, want 3 and %d", ok, full, len(bookers)-3)
	}
	if n, _ := f.db.Collection("freeservice_seats").CountDocuments(f.ctx, bson.D{{Key: "slotId", Value: first.ID}}); n != 3 {
		t.Fatalf("%d seats held, want 3", n)
	}
	if n, _ := f.db.Collection("freeservice_visits").CountDocuments(f.ctx, bson.D{{Key: "slotId", Value: first.ID}}); n != 3 {
		t.Fatalf("%d visits booked on the slot, want 3", n)
	}
	got, err := f.svc.Slots(f.ctx, f.ownerA, x.ID)
	f.must(err)
	if got[0].Booked != 3 || got[0].Remaining() != 0 || got[1].Remaining() != 3 {
		t.Fatalf("slots after the race: %+v %+v", got[0], got[1])
	}
}

// Two members of one household booking different slots at once end with
// one booking holding one seat: one slot per household per cycle.
func TestConcurrentRebookingKeepsOneSeat(t *testing.T) {
	f := newFixture(t, "")
	x, slots := f.gasCheck(5)
	family := f.member(f.ha, access.Family, "13800000009")
	for round := range 3 {
		var wg sync.WaitGroup
		for i, c := range []*access.Caller{f.ownerA, family, f.ownerA} {
			wg.Go(func() {
				_, err := f.svc.Book(f.ctx, c, x.ID, slots[(i+round)%3].ID, f.ha.ID)
				if err != nil && apperr.CodeOf(err) != apperr.Conflict { // the loser of a race on one step
					t.Errorf("booking: %v", err)
				}
			})
		}
		wg.Wait()
		v, err := f.svc.visit(f.ctx, visitID(x.ID, 1, f.ha.ID))
		f.must(err)
		n, _ := f.db.Collection("freeservice_seats").CountDocuments(f.ctx, bson.D{})
		if n != 1 {
			t.Fatalf("round %d: %d seats held, want 1 (visit holds %s)", round, n, v.SeatID)
		}
		var st seat
		f.must(f.db.Collection("freeservice_seats").FindOne(f.ctx, bson.D{}).Decode(&st))
		if st.ID != v.SeatID || st.SlotID != v.SlotID || v.Slot.ID != v.SlotID {
			t.Fatalf("round %d: seat %+v, visit on %s holding %s", round, st, v.SlotID, v.SeatID)
		}
	}
}

// Booking closes the day before the visit day at the close time in the
// community's zone: a second before is open, the close time itself is not.
func TestBookingClosesTheDayBeforeInTheCommunitysZone(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	newYork, _ := time.LoadLocation("America/New_York")
	for _, z := range []struct {
		zone      string
		loc       *time.Location
		closeTime string
	}{
		{"", shanghai, ""},                     // the default zone and 18:00
		{"America/New_York", newYork, "20:30"}, // another zone, a configured time
	} {
		t.Run(z.loc.String(), func(t *testing.T) {
			f := newFixture(t, z.zone)
			f.set(time.Date(2026, 11, 20, 9, 0, 0, 0, z.loc))
			x, slots := f.gasCheck(10, func(in *CreateInput) { in.CloseTime = z.closeTime })
			first := slots[0] // 2026-11-25 09:00-11:00
			hh, mm := 18, 0
			if z.closeTime != "" {
				hh, mm = 20, 30
			}
			closes := time.Date(2026, 11, 24, hh, mm, 0, 0, z.loc)
			if !first.ClosesAt.Equal(closes) {
				t.Fatalf("closes at %v, want %v", first.ClosesAt, closes)
			}
			for _, tc := range []struct {
				name string
				now  time.Time
				open bool
			}{
				{"two days before", closes.Add(-24 * time.Hour), true},
				{"a second before the close", closes.Add(-time.Second), true},
				{"at the close", closes, false},
				{"a minute after", closes.Add(time.Minute), false},
				{"on the visit day", time.Date(2026, 11, 25, 8, 0, 0, 0, z.loc), false},
			} {
				t.Run(tc.name, func(t *testing.T) {
					f.set(tc.now)
					_, err := f.svc.Book(f.ctx, f.ownerA, x.ID, first.ID, f.ha.ID)
					if tc.open && err != nil {
						t.Fatalf("refused while open: %v", err)
					}
					if !tc.open {
						if !errors.Is(err, ErrBookingClosed) {
							t.Fatalf("err %v, want booking closed", err)
						}
						want := "2026-11-25 09:00-11:00 的预约已于 " + closes.Format("2006-01-02 15:04") + " 截止"
						if msg := apperr.Message(mustAppErr(t, err), apperr.ZH); msg != want {
							t.Fatalf("message %q, want %q", msg, want)
						}
					}
				})
			}
			// The household is booked on the 25th; once that has closed it
			// cannot move to the 27th, which is still open.
			f.set(closes.Add(time.Hour))
			_, err := f.svc.Book(f.ctx, f.ownerA, x.ID, slots[2].ID, f.ha.ID)
			if !errors.Is(err, ErrMoveClosed) {
				t.Fatalf("moving out of a closed slot: %v", err)
			}
			// Another household still books the 27th.
			if _, err := f.svc.Book(f.ctx, f.ownerB, x.ID, slots[2].ID, f.hb.ID); err != nil {
				t.Fatalf("booking an open day: %v", err)
			}
		})
	}
}

func mustAppErr(t *testing.T, err error) *apperr.Error {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok {
		t.Fatalf("not an app error: %v", err)
	}
	return e
}

// Who may book, list and see: owners and family for their own household,
// staff of the community; everyone else NOT_FOUND.
func TestBookingPermissions(t *testing.T) {
	f := newFixture(t, "")
	x, slots := f.gasCheck(5)
	sl := slots[0].ID
	tenant := f.member(f.ha, access.Tenant, "13700000001")

	wantCode(t, "butler creates", func() error { _, err := f.svc.Create(f.ctx, f.butler, CreateInput{CommunityID: f.x.ID}); return err }(), apperr.Forbidden)
	wantCode(t, "supervisor of Y creates in X", func() error {
		_, err := f.svc.Create(f.ctx, f.supervisorY, CreateInput{CommunityID: f.x.ID})
		return err
	}(), apperr.NotFound)
	wantCode(t, "owner creates", func() error { _, err := f.svc.Create(f.ctx, f.ownerA, CreateInput{CommunityID: f.x.ID}); return err }(), apperr.Forbidden)

	book := func(c *access.Caller, h string) error { _, err := f.svc.Book(f.ctx, c, x.ID, sl, h); return err }
	wantCode(t, "owner books for a neighbour", book(f.ownerA, f.hb.ID), apperr.NotFound)
	wantCode(t, "owner of Y books in X", book(f.ownerY, f.ha.ID), apperr.NotFound)
	wantCode(t, "staff of Y book in X", book(f.supervisorY, f.ha.ID), apperr.NotFound)
	wantCode(t, "tenant books", book(tenant, f.ha.ID), apperr.Forbidden)
	wantCode(t, "security books", book(f.security, f.ha.ID), apperr.Forbidden)
	wantCode(t, "building 2 is not covered", book(f.ownerC, f.hc.ID), apperr.BadUserInput)
	if err := book(f.butler, f.hb.ID); err != nil {
		t.Fatalf("a butler books for an owner who phoned: %v", err)
	}

	// Lists: staff of Y and residents of building 2 do not see it.
	p := pageOf(10)
	if _, err := f.svc.List(f.ctx, f.supervisorY, f.x.ID, p); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("staff of Y list X: %v", err)
	}
	if _, err := f.svc.List(f.ctx, f.ownerY, f.x.ID, p); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("owner of Y lists X: %v", err)
	}
	if pg, err := f.svc.List(f.ctx, f.ownerC, f.x.ID, p); err != nil || len(pg.Items) != 0 {
		t.Fatalf("owner in building 2 lists: %d, %v", len(pg.Items), err)
	}
	if pg, err := f.svc.List(f.ctx, f.ownerA, f.x.ID, p); err != nil || len(pg.Items) != 1 {
		t.Fatalf("owner in building 1 lists: %v", err)
	}
	if pg, err := f.svc.List(f.ctx, f.engineer, f.x.ID, p); err != nil || len(pg.Items) != 1 {
		t.Fatalf("staff list: %v", err)
	}
	for name, c := range map[string]*access.Caller{"owner in building 2": f.ownerC, "staff of Y": f.supervisorY} {
		if _, err := f.svc.Slots(f.ctx, c, x.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("%s reads slots: %v", name, err)
		}
		if _, err := f.svc.Coverage(f.ctx, c, x.ID, 0, p); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("%s reads coverage: %v", name, err)
		}
	}
	if _, err := f.svc.Coverage(f.ctx, f.ownerA, x.ID, 0, p); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("an owner reads coverage: %v", err)
	}
}

func pageOf(n int) page.Request { return page.Request{First: n} }
