package freeservice

import (
	"fmt"
	"testing"

	"qinqing/internal/platform/apperr"
)

// A campaign's input is checked at the edge and every error names its field.
func TestCreateValidation(t *testing.T) {
	f := newFixture(t, "")
	valid := func() CreateInput {
		return CreateInput{CommunityID: f.x.ID, Title: "燃气安全检查", IntervalMonths: 2,
			Days: []Day{{Date: "2026-11-25", Slots: []SlotSpec{{Start: "09:00", End: "11:00", Capacity: 10}}}}}
	}
	many := make([]Day, 0, 10)
	for d := range 10 {
		var slots []SlotSpec
		for h := range 10 {
			slots = append(slots, SlotSpec{Start: fmt.Sprintf("%02d:00", 8+h), End: fmt.Sprintf("%02d:30", 8+h), Capacity: 2})
		}
		many = append(many, Day{Date: fmt.Sprintf("2026-12-%02d", 1+d), Slots: slots})
	}
	for _, tc := range []struct {
		name  string
		mod   func(*CreateInput)
		field string // "" means created
	}{
		{"valid", func(*CreateInput) {}, ""},
		{"the most slots a cycle may have", func(in *CreateInput) { in.Days = many }, ""},
		{"one slot too many", func(in *CreateInput) {
			in.Days = append(many, Day{Date: "2026-12-20", Slots: []SlotSpec{{Start: "09:00", End: "10:00", Capacity: 1}}})
		}, "input.visitDays"},
		{"no title", func(in *CreateInput) { in.Title = " " }, "input.title"},
		{"a building of another community", func(in *CreateInput) { in.BuildingIDs = []string{f.hy.BuildingID} }, "input.buildingIds"},
		{"no interval", func(in *CreateInput) { in.IntervalMonths = 0 }, "input.intervalMonths"},
		{"negative cycles", func(in *CreateInput) { in.Cycles = -1 }, "input.cycles"},
		{"a close time that is no time", func(in *CreateInput) { in.CloseTime = "6pm" }, "input.bookingCloseTime"},
		{"no days", func(in *CreateInput) { in.Days = nil }, "input.visitDays"},
		{"today", func(in *CreateInput) { in.Days[0].Date = "2026-11-22" }, "input.visitDays.0.date"},
		{"not a date", func(in *CreateInput) { in.Days[0].Date = "2026-11-31" }, "input.visitDays.0.date"},
		{"a day twice", func(in *CreateInput) { in.Days = append(in.Days, in.Days[0]) }, "input.visitDays"},
		{"a slot ending before it starts", func(in *CreateInput) { in.Days[0].Slots[0].End = "08:00" }, "input.visitDays.0.slots.0.end"},
		{"a bad start", func(in *CreateInput) { in.Days[0].Slots[0].Start = "9:00" }, "input.visitDays.0.slots.0.start"},
		{"no capacity", func(in *CreateInput) { in.Days[0].Slots[0].Capacity = 0 }, "input.visitDays.0.slots.0.capacity"},
		{"a cycle longer than the interval", func(in *CreateInput) {
			in.Days = append(in.Days, Day{Date: "2027-01-25", Slots: in.Days[0].Slots})
		}, "input.visitDays"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := valid()
			tc.mod(&in)
			x, err := f.svc.Create(f.ctx, f.supervisor, in)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				slots, err := f.svc.Slots(f.ctx, f.supervisor, x.ID)
				f.must(err)
				if want := len(in.Days) * len(in.Days[0].Slots); len(slots) != want || slots[0].Remaining() != in.Days[0].Slots[0].Capacity {
					t.Fatalf("%d slots, want %d", len(slots), want)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Field != tc.field || (e.Code != apperr.BadUserInput && e.Code != apperr.NotFound) {
				t.Fatalf("err %v, want one naming %s", err, tc.field)
			}
		})
	}
}
