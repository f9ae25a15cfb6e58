package vote

import (
	"testing"
)

func TestParticipated(t *testing.T) {
	e := Tally{Units: 300, Area: 30_000_00}
	for _, c := range []struct {
		name string
		p    Tally
		want bool
	}{
		{"exactly two thirds of both", Tally{200, 20_000_00}, true},
		{"one unit under two thirds", Tally{199, 20_000_00}, false},
		{"area a hundredth under two thirds", Tally{200, 20_000_00 - 1}, false},
		{"more units, less area", Tally{290, 19_999_99}, false},
		{"everyone", e, true},
		{"nobody", Tally{}, false},
	} {
		if got := Participated(e, c.p); got != c.want {
			t.Errorf("%s: Participated(%v, %v) = %v, want %v", c.name, e, c.p, got, c.want)
		}
	}
	// Two thirds of a number not divisible by three: 2/3 of 10 is 6.67, so 7 units.
	if Participated(Tally{10, 1000}, Tally{6, 1000}) || !Participated(Tally{10, 1000}, Tally{7, 667}) || Participated(Tally{10, 1000}, Tally{7, 666}) {
		t.Error("two thirds of 10 units / 1000 area must need 7 units and 667 area")
	}
}

func TestApproves(t *testing.T) {
	p := Tally{Units: 100, Area: 10_000}
	for _, c := range []struct {
		name string
		rule Rule
		o    Tally
		want bool
	}{
		{"ordinary: a tie at half is not more than half", Ordinary, Tally{50, 5_000}, false},
		{"ordinary: one unit over half", Ordinary, Tally{51, 5_001}, true},
		{"ordinary: units over half, area exactly half", Ordinary, Tally{60, 5_000}, false},
		{"ordinary: area over half, units exactly half", Ordinary, Tally{50, 9_000}, false},
		{"major: exactly three quarters", Major, Tally{75, 7_500}, true},
		{"major: a unit under three quarters", Major, Tally{74, 9_000}, false},
		{"major: area a hundredth under three quarters", Major, Tally{90, 7_499}, false},
		{"major: more than half is not enough", Major, Tally{51, 5_100}, false},
		{"nobody for it", Ordinary, Tally{}, false},
	} {
		if got := Approves(c.rule, p, c.o); got != c.want {
			t.Errorf("%s: Approves(%s, %v, %v) = %v, want %v", c.name, c.rule, p, c.o, got, c.want)
		}
	}
	// Odd participants: 2·o > p with p = 3 needs 2 of 3; 3/4 of 3 needs 3 (2.25 rounds up).
	if !Approves(Ordinary, Tally{3, 300}, Tally{2, 200}) || Approves(Major, Tally{3, 300}, Tally{2, 200}) || !Approves(Major, Tally{3, 300}, Tally{3, 300}) {
		t.Error("three participants: ordinary needs 2, major needs 3")
	}
	if Approves(Ordinary, Tally{}, Tally{}) || Approves(Major, Tally{}, Tally{}) {
		t.Error("no participants approve nothing")
	}
}

func TestDecide(t *testing.T) {
	e := Tally{Units: 9, Area: 900_00}
	abstain := []bool{false, false, true}
	for _, c := range []struct {
		name    string
		rule    Rule
		p       Tally
		opts    []Tally
		outcome Outcome
		adopted int
	}{
		{"ordinary adopted at exactly two thirds participation", Ordinary, Tally{6, 600_00}, []Tally{{4, 400_00}, {1, 100_00}, {1, 100_00}}, Adopted, 0},
		{"no quorum even with unanimous approval", Ordinary, Tally{5, 800_00}, []Tally{{5, 800_00}, {}, {}}, NoQuorum, -1},
		{"tie between yes and no adopts nothing", Ordinary, Tally{6, 600_00}, []Tally{{3, 300_00}, {3, 300_00}, {}}, NotAdopted, -1},
		{"headcount for, area against", Ordinary, Tally{6, 600_00}, []Tally{{4, 200_00}, {2, 400_00}, {}}, NotAdopted, -1},
		{"major at exactly three quarters", Major, Tally{8, 800_00}, []Tally{{6, 600_00}, {2, 200_00}, {}}, Adopted, 0},
		{"major a hundredth of area short", Major, Tally{8, 800_00}, []Tally{{6, 599_99}, {2, 200_01}, {}}, NotAdopted, -1},
		{"second option adopted", Major, Tally{9, 900_00}, []Tally{{1, 100_00}, {8, 800_00}, {}}, Adopted, 1},
		{"abstention reaching a majority is not adopted", Ordinary, Tally{9, 900_00}, []Tally{{1, 100_00}, {1, 100_00}, {7, 700_00}}, NotAdopted, -1},
	} {
		outcome, reached, adopted := Decide(c.rule, e, c.p, c.opts, abstain)
		if outcome != c.outcome || adopted != c.adopted {
			t.Errorf("%s: Decide = %s, option %d (reached %v); want %s, option %d", c.name, outcome, adopted, reached, c.outcome, c.adopted)
		}
	}
}

func TestAreaHundredths(t *testing.T) {
	for in, want := range map[float64]int64{89.5: 8950, 120: 12000, 0.01: 1, 99.99: 9999, 0: 0, -3: 0, 1e4: 1_000_000} {
		if got := AreaHundredths(in); got != want {
			t.Errorf("AreaHundredths(%v) = %d, want %d", in, got, want)
		}
	}
}
