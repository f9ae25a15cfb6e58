package renovation

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/validate"
)

const (
	// MaxPeriodDays bounds an application's period; longer works are asked
	// for as extensions, which a supervisor decides on.
	MaxPeriodDays = 180
	// MaxTotalDays bounds the period with every extension.
	MaxTotalDays = 365
	// MaxWorkers bounds the workers list.
	MaxWorkers = 30
)

// DocumentInput is one checklist item as the owner gives it.
type DocumentInput struct {
	Provided bool
	Photo    *files.Upload
}

// DocumentsInput is the checklist as the owner gives it.
type DocumentsInput struct {
	Agreement, FireSafetyPledge, WaterproofingTest DocumentInput
}

// Application is what an owner applies (and resubmits) with.
type Application struct {
	Company   Company
	Workers   []Worker
	StartDate string
	EndDate   string
	Scope     string
	ScopeTags []ScopeTag
	Documents DocumentsInput
}

// checked is an application after validation (documents are stored apart).
type checked struct {
	company    Company
	workers    []Worker
	start, end string
	scope      string
	tags       []ScopeTag
}

func (a *checked) applyTo(r *Renovation) {
	r.Company, r.Workers, r.StartDate, r.EndDate, r.Scope, r.ScopeTags = a.company, a.workers, a.start, a.end, a.scope, a.tags
}

// checkApplication validates every field and names the one that is wrong.
// today is the community's date: works may not be applied for in the past.
func checkApplication(in Application, today string) (*checked, error) {
	out := &checked{workers: []Worker{}, tags: []ScopeTag{}}
	var err error
	if out.company.Name, err = validate.Text("input.company.name", in.Company.Name, true, 100); err != nil {
		return nil, err
	}
	if out.company.Contact, err = validate.Text("input.company.contact", in.Company.Contact, false, 40); err != nil {
		return nil, err
	}
	if out.company.Phone, err = validate.Phone("input.company.phone", in.Company.Phone); err != nil {
		return nil, err
	}
	if out.company.LicenseNo, err = validate.Text("input.company.licenseNo", in.Company.LicenseNo, false, 40); err != nil {
		return nil, err
	}
	if len(in.Workers) > MaxWorkers {
		return nil, apperr.Invalid("input.workers", "input.too_many", MaxWorkers)
	}
	for i, w := range in.Workers {
		f := fmt.Sprintf("input.workers.%d.", i)
		var v Worker
		if v.Name, err = validate.Text(f+"name", w.Name, true, 40); err != nil {
			return nil, err
		}
		if strings.TrimSpace(w.Phone) != "" {
			if v.Phone, err = validate.Phone(f+"phone", w.Phone); err != nil {
				return nil, err
			}
		}
		if strings.TrimSpace(w.IDCardNo) != "" {
			if v.IDCardNo, err = idCard(f+"idCardNo", w.IDCardNo); err != nil {
				return nil, err
			}
		}
		out.workers = append(out.workers, v)
	}
	if !validDate(in.StartDate) || !validDate(in.EndDate) || in.StartDate < today || in.EndDate < in.StartDate ||
		daysBetween(in.StartDate, in.EndDate) >= MaxPeriodDays || daysBetween(today, in.StartDate) > MaxPeriodDays {
		return nil, apperr.Invalid("input.period", "renovation.bad_period", MaxPeriodDays)
	}
	out.start, out.end = in.StartDate, in.EndDate
	if out.scope, err = validate.Text("input.scope", in.Scope, true, 1000); err != nil {
		return nil, err
	}
	for _, t := range in.ScopeTags {
		if !slices.Contains(ScopeTags, t) {
			return nil, apperr.Invalid("input.scopeTags", "input.bad_value")
		}
		if !slices.Contains(out.tags, t) {
			out.tags = append(out.tags, t)
		}
	}
	for _, d := range []struct {
		name string
		in   DocumentInput
	}{{"agreement", in.Documents.Agreement}, {"fireSafetyPledge", in.Documents.FireSafetyPledge}, {"waterproofingTest", in.Documents.WaterproofingTest}} {
		if d.in.Photo != nil && !d.in.Provided {
			return nil, apperr.Invalid("input.documents."+d.name+".provided", "renovation.photo_not_provided")
		}
	}
	return out, nil
}

// missingDocuments lists what an approval still lacks: the agreement and the
// fire-safety pledge always, the waterproofing test confirmation when the
// works touch wet areas (waterproofing, kitchen and bathrooms).
func missingDocuments(r *Renovation) []string {
	var out []string
	if !r.Documents.Agreement.Provided {
		out = append(out, "装修管理协议 (renovation agreement)")
	}
	if !r.Documents.FireSafetyPledge.Provided {
		out = append(out, "消防安全承诺书 (fire-safety pledge)")
	}
	wet := slices.ContainsFunc(r.ScopeTags, func(t ScopeTag) bool { return slices.Contains(wetWorks, t) })
	if wet && !r.Documents.WaterproofingTest.Provided {
		out = append(out, "闭水试验确认 (waterproofing test confirmation)")
	}
	return out
}

// idCard checks a mainland resident ID-card number (GB 11643): 18
// characters, a real birth date, and the check character.
func idCard(field, s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	bad := apperr.Invalid(field, "renovation.bad_id_card")
	if len(s) != 18 {
		return "", bad
	}
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		if s[i] < '0' || s[i] > '9' {
			return "", bad
		}
		sum += int(s[i]-'0') * w
	}
	if "10X98765432"[sum%11] != s[17] {
		return "", bad
	}
	if _, err := time.Parse("20060102", s[6:14]); err != nil {
		return "", bad
	}
	return s, nil
}

func validDate(d string) bool {
	_, err := time.Parse(time.DateOnly, d)
	return err == nil
}

// daysBetween counts calendar days from a to b (both valid dates).
func daysBetween(a, b string) int {
	ta, _ := time.Parse(time.DateOnly, a)
	tb, _ := time.Parse(time.DateOnly, b)
	return int(tb.Sub(ta).Hours() / 24)
}
