package vote

// Rule is how a matter is decided (民法典第二百七十八条).
type Rule string

const (
	// Ordinary matters: participation of owners holding at least two thirds
	// of the area and at least two thirds of the owners; approval by more
	// than half of the participating area and of the participating owners.
	Ordinary Rule = "ORDINARY"
	// Major matters (raising or using the maintenance fund, changing the
	// property company, rebuilding): participation as ordinary; approval by
	// at least three quarters of the participating area and owners.
	Major Rule = "MAJOR"
)

// Rules lists the valid rules.
var Rules = []Rule{Ordinary, Major}

// Tally is a number of units (owners, one per 专有部分) and the floor area
// they hold in hundredths of a square metre: every comparison is made on
// these integers, never on floats, so exactly two thirds is exactly two
// thirds.
type Tally struct {
	Units int64 `bson:"units"`
	Area  int64 `bson:"area"`
}

// Add adds a unit of area to t.
func (t *Tally) Add(area int64) {
	t.Units++
	t.Area += area
}

// Outcome is what a counted vote decided.
type Outcome string

const (
	// Adopted: participation was reached and one option reached the rule's approval.
	Adopted Outcome = "ADOPTED"
	// NotAdopted: participation was reached, no option reached approval.
	NotAdopted Outcome = "NOT_ADOPTED"
	// NoQuorum: too few owners or too little area took part; nothing decided.
	NoQuorum Outcome = "NO_QUORUM"
)

// Participated reports whether participation reached two thirds of the
// electorate's units and of its area (both rules): 3·p ≥ 2·e.
func Participated(electorate, participating Tally) bool {
	return 3*participating.Units >= 2*electorate.Units && 3*participating.Area >= 2*electorate.Area
}

// Approves reports whether an option's tally approves it under rule among
// those who took part: ordinary 2·o > p, major 4·o ≥ 3·p, in both units and
// area. Nobody taking part approves nothing.
func Approves(rule Rule, participating, option Tally) bool {
	if participating.Units == 0 || option.Units == 0 {
		return false
	}
	if rule == Major {
		return 4*option.Units >= 3*participating.Units && 4*option.Area >= 3*participating.Area
	}
	return 2*option.Units > participating.Units && 2*option.Area > participating.Area
}

// Decide applies rule: whether participation was reached, each option's
// approval, and the adopted option's index (-1 when none). An abstention
// option (弃权) takes part but is never adopted. Under either rule at most
// one option can reach approval: two options over half (or three quarters)
// of the same participants would add up to more than all of them.
func Decide(rule Rule, electorate, participating Tally, options []Tally, abstain []bool) (outcome Outcome, reached []bool, adopted int) {
	reached = make([]bool, len(options))
	adopted = -1
	for i, o := range options {
		reached[i] = Approves(rule, participating, o)
		if reached[i] && (i >= len(abstain) || !abstain[i]) && adopted < 0 {
			adopted = i
		}
	}
	switch {
	case !Participated(electorate, participating):
		return NoQuorum, reached, -1
	case adopted < 0:
		return NotAdopted, reached, -1
	}
	return Adopted, reached, adopted
}

// AreaHundredths is a floor area in square metres as whole hundredths, the
// unit every count is made in (the fee domain bills area the same way).
func AreaHundredths(m2 float64) int64 {
	if m2 <= 0 {
		return 0
	}
	return int64(m2*100 + 0.5)
}
