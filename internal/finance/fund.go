package finance

import (
	"qinqing/internal/platform/apperr"
)

// Fund is the maintenance fund (专项维修资金) as the statement shows it for
// the period. The fund belongs to the owners and is kept apart from the
// management's income and expense, so it is its own block and never part
// of the statement's totals. Amounts are fen.
type Fund struct {
	Opening  int64  `bson:"opening"`  // balance at the start of the period (期初余额)
	Deposits int64  `bson:"deposits"` // paid in during the period (本期缴存)
	Interest int64  `bson:"interest"` // interest credited (利息收入)
	Spent    int64  `bson:"spent"`    // drawn for repairs of shared parts (本期使用)
	Note     string `bson:"note,omitempty"`
}

// Closing is the balance at the end of the period (期末余额), derived so that
// it cannot disagree with the movements.
func (f *Fund) Closing() int64 { return f.Opening + f.Deposits + f.Interest - f.Spent }

// FundInput is the fund as entered.
type FundInput struct {
	Opening, Deposits, Interest, Spent int64
	Note                               *string
}

func init() {
	apperr.Register(map[string]apperr.Text{
		"finance.fund_overdrawn": {ZH: "使用金额超过维修资金余额（期初余额＋本期缴存＋利息）", EN: "is more than the fund holds (opening balance + deposits + interest)"},
	})
}

// buildFund validates the fund, naming the field at fault. Spending more
// than the fund holds is blamed on spent: the balance it would leave
// cannot exist, and spent is the figure that makes it so.
func buildFund(in *FundInput) (*Fund, error) {
	if in == nil {
		return nil, nil
	}
	for _, a := range []struct {
		field  string
		amount int64
	}{{"opening", in.Opening}, {"deposits", in.Deposits}, {"interest", in.Interest}, {"spent", in.Spent}} {
		field := "input.maintenanceFund." + a.field
		if a.amount < 0 {
			return nil, apperr.Invalid(field, "finance.negative_amount")
		}
		if a.amount > MaxAmount {
			return nil, apperr.Invalid(field, "finance.amount_too_large")
		}
	}
	f := &Fund{Opening: in.Opening, Deposits: in.Deposits, Interest: in.Interest, Spent: in.Spent}
	if f.Closing() < 0 {
		return nil, apperr.Invalid("input.maintenanceFund.spent", "finance.fund_overdrawn")
	}
	var err error
	if f.Note, err = optText("input.maintenanceFund.note", in.Note, MaxNote); err != nil {
		return nil, err
	}
	return f, nil
}
