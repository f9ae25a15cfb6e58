package app

import (
	"context"
	"log/slog"
	"slices"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/dunning"
	"qinqing/internal/fee"
	"qinqing/internal/household"
	"qinqing/internal/platform/config"
	"qinqing/internal/platform/pdf"
	"qinqing/internal/staff"
)

// noticeFacts gathers what a written notice (书面催缴通知书) states from
// the register, the bills and the staff list, when the step is taken.
type noticeFacts struct {
	company     string
	communities *community.Service
	households  *household.Service
	fees        *fee.Service
	staff       *staff.Service
}

// NewNoticeFacts is the written notice's source of facts, for whoever wires
// the dunning service outside App (the seed's tests).
func NewNoticeFacts(company string, c *community.Service, h *household.Service, f *fee.Service, st *staff.Service) dunning.NoticeFacts {
	return noticeFacts{company: company, communities: c, households: h, fees: f, staff: st}
}

func (n noticeFacts) NoticeFacts(ctx context.Context, h *household.Household) (*dunning.Facts, error) {
	f := &dunning.Facts{CompanyName: n.company}
	cs, err := n.communities.ByIDs(ctx, []string{h.CommunityID})
	if err != nil {
		return nil, err
	}
	if c := cs[h.CommunityID]; c != nil {
		f.CommunityName, f.CommunityAddress = c.Name, c.Address
	}
	ms, err := n.households.MembershipsByHouseholds(ctx, []string{h.ID})
	if err != nil {
		return nil, err
	}
	var owners []string
	for _, m := range ms[h.ID] {
		if m.Role == access.Owner {
			owners = append(owners, m.PersonID)
		}
	}
	people, err := n.households.PersonsByIDs(ctx, owners)
	if err != nil {
		return nil, err
	}
	for _, id := range owners {
		if p := people[id]; p != nil && p.Name != "" {
			f.Owners = append(f.Owners, p.Name)
		}
	}
	bills, err := n.fees.OpenBills(ctx, h.ID)
	if err != nil {
		return nil, err
	}
	for _, b := range bills {
		f.Bills = append(f.Bills, dunning.NoticePeriod{Period: b.Period, DueDate: b.DueDate, Fen: b.Outstanding()})
	}
	f.Contacts, err = n.contacts(ctx, h)
	return f, err
}

// contacts: the household's butler, else the community's front desk.
func (n noticeFacts) contacts(ctx context.Context, h *household.Household) ([]dunning.Contact, error) {
	butlers, err := n.staff.WithRole(ctx, h.CommunityID, access.Butler)
	if err != nil {
		return nil, err
	}
	var out []dunning.Contact
	for _, b := range butlers {
		if slices.Contains(b.BuildingIDs, h.BuildingID) || slices.Contains(b.HouseholdIDs, h.ID) {
			out = append(out, dunning.Contact{Role: "管家", Name: b.Name, Phone: b.Phone})
		}
	}
	if len(out) > 0 {
		return out[:min(len(out), 2)], nil
	}
	desk, err := n.staff.WithRole(ctx, h.CommunityID, access.CustomerService)
	if err != nil || len(desk) == 0 {
		return nil, err
	}
	return []dunning.Contact{{Role: "客户服务中心", Name: desk[0].Name, Phone: desk[0].Phone}}, nil
}

// documentFont locates the CJK font of generated documents once, and says
// at start-up, once, whether documents work.
func documentFont(cfg *config.Config, log *slog.Logger) *pdf.Font {
	f := pdf.Locate(cfg.PDFFont)
	if err := f.Err(); err != nil {
		log.Warn("PDF documents are off (written notices answer 503): no CJK font", "err", err)
	} else {
		log.Info("PDF documents are on", "font", f.Path())
	}
	return f
}
