package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

const bookMoveMutation = `mutation($in:BookMoveInput!){ bookMove(input:$in){ id status date from to direction largeItems
  lift { name building { name } } household { id } } }`

func moveInput(householdID, from, to, lift string) map[string]any {
	return map[string]any{"householdId": householdID, "date": "2026-11-25", "from": from, "to": to, "lift": lift,
		"largeItems": []string{"冰箱", "钢琴"}, "direction": "MOVE_IN"}
}

type moveView struct {
	BookMove struct {
		ID, Status, Date, From, To, Direction string
		Lift                                  struct {
			Name     string
			Building struct{ Name string }
		}
	}
}

// Two overlapping bookings of one lift through the API: the second is
// CONFLICT naming the window it hits; touching windows and other lifts are
// fine; a cancelled window can be booked again; the evening before, the
// household is reminded; after the date the booking is marked moved.
func TestMoveBookingsThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	w := e.world()
	ownerA := e.owner(w.OwnerA.Phone)
	ownerB := e.owner(w.OwnerB.Phone) // same building as A
	butler := e.staff(w.butlerX, w.Password)

	var a moveView
	ownerA.ok(bookMoveMutation, map[string]any{"in": moveInput(w.HA.ID, "09:00", "11:00", "1号梯")}, &a)
	if a.BookMove.Status != "BOOKED" || a.BookMove.Lift.Name != "1号梯" || a.BookMove.Lift.Building.Name != w.XB1.Name {
		t.Fatalf("booked: %+v", a)
	}
	r := ownerB.fails("CONFLICT", bookMoveMutation, map[string]any{"in": moveInput(w.HB.ID, "10:00", "12:00", "1")})
	if msg := r.Errors[0].Message; !strings.Contains(msg, "09:00–11:00") || !strings.Contains(msg, "2026-11-25") {
		t.Errorf("conflict message %q does not name the window", msg)
	}
	en := &client{e: e, token: ownerB.token, lang: "en"}
	r = en.fails("CONFLICT", bookMoveMutation, map[string]any{"in": moveInput(w.HB.ID, "08:30", "09:30", "1")})
	if msg := r.Errors[0].Message; !strings.Contains(msg, "from 09:00 to 11:00") {
		t.Errorf("English conflict message %q", msg)
	}
	var b moveView
	ownerB.ok(bookMoveMutation, map[string]any{"in": moveInput(w.HB.ID, "11:00", "12:00", "1")}, &b)
	ownerB.ok(bookMoveMutation, map[string]any{"in": moveInput(w.HB.ID, "09:00", "11:00", "2号梯")}, nil)
	ownerB.fails("BAD_USER_INPUT", bookMoveMutation, map[string]any{"in": moveInput(w.HB.ID, "09:10", "10:00", "3")})
	ownerB.fails("NOT_FOUND", bookMoveMutation, map[string]any{"in": moveInput(w.HA.ID, "13:00", "14:00", "1")})
	butler.fails("FORBIDDEN", bookMoveMutation, map[string]any{"in": moveInput(w.HA.ID, "13:00", "14:00", "1")})

	// Lists: staff of the community by day; staff of Y nothing; owners their own.
	var list struct {
		MoveBookings struct {
			Edges []struct {
				Node struct{ From, To, Status string }
			}
			TotalCount int
		}
	}
	butler.ok(`query($c:ID!,$b:ID!){ moveBookings(communityId:$c, date:"2026-11-25", buildingId:$b){ edges { node { from to status } } totalCount } }`,
		map[string]any{"c": w.X.ID, "b": w.XB1.ID}, &list)
	if list.MoveBookings.TotalCount != 3 || list.MoveBookings.Edges[0].Node.From != "09:00" {
		t.Errorf("butler's day list: %+v", list)
	}
	e.staff(w.supervisorY, w.Password).fails("FORBIDDEN", `query($c:ID!){ moveBookings(communityId:$c){ totalCount } }`, map[string]any{"c": w.X.ID})
	ownerA.ok(`{ moveBookings { edges { node { from to status } } totalCount } }`, nil, &list)
	if len(list.MoveBookings.Edges) != 1 || list.MoveBookings.TotalCount != 1 {
		t.Errorf("owner A's own list: %+v", list)
	}

	// Another household's booking, by id or by its household, is as if absent
	// to a neighbour and to staff of another community.
	byID := `query($id:ID!){ moveBooking(id:$id){ id } }`
	ownerB.fails("NOT_FOUND", byID, map[string]any{"id": a.BookMove.ID})
	e.staff(w.supervisorY, w.Password).fails("NOT_FOUND", byID, map[string]any{"id": a.BookMove.ID})
	ownerB.fails("NOT_FOUND", `query($h:ID!){ moveBookings(householdId:$h){ totalCount } }`, map[string]any{"h": w.HA.ID})

	// Only the household cancels; the freed window can be booked.
	cancel := `mutation($id:ID!){ cancelMoveBooking(id:$id){ id status } }`
	ownerB.fails("NOT_FOUND", cancel, map[string]any{"id": a.BookMove.ID})
	ownerA.ok(cancel, map[string]any{"id": a.BookMove.ID}, nil)
	ownerB.ok(bookMoveMutation, map[string]any{"in": moveInput(w.HB.ID, "10:00", "11:00", "1")}, nil)

	// The evening before, B is reminded; after the date the booking is MOVED.
	ctx := context.Background()
	e.Clock.Set(time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC)) // 18:30 in Shanghai
	for i := 0; i < 2; i++ {
		if err := e.App.Services.Moves.Tick(ctx, e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	ownerB = e.owner(w.OwnerB.Phone) // the clock moved past the token's life
	// One reminder per live booking, however often the scheduler runs; none
	// for A's cancelled one.
	if n := strings.Count(renoInboxTitles(ownerB), "明日搬家提醒"); n != 3 {
		t.Errorf("owner B got %d reminders, want 3 (one per booking)", n)
	}
	if n := strings.Count(renoInboxTitles(e.owner(w.OwnerA.Phone)), "明日搬家提醒"); n != 0 {
		t.Errorf("owner A got %d reminders for a cancelled booking", n)
	}
	e.Clock.Set(time.Date(2026, 11, 25, 16, 30, 0, 0, time.UTC)) // 00:30 on the 26th
	if err := e.App.Services.Moves.Tick(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	ownerB = e.owner(w.OwnerB.Phone)
	var one struct{ MoveBooking struct{ Status string } }
	ownerB.ok(`query($id:ID!){ moveBooking(id:$id){ status } }`, map[string]any{"id": b.BookMove.ID}, &one)
	if one.MoveBooking.Status != "MOVED" {
		t.Errorf("after the date: %s", one.MoveBooking.Status)
	}
}
