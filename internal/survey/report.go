package survey

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"qinqing/internal/platform/apperr"
)

// Report texts in Chinese and English.
var reportText = map[string][2]string{
	"section":              {"部分", "Section"},
	"number":               {"题号", "No."},
	"question":             {"题目", "Question"},
	"type":                 {"题型", "Type"},
	"item":                 {"项目", "Item"},
	"count":                {"数量", "Count"},
	"base":                 {"基数", "Base"},
	"share":                {"占比", "Share"},
	"mean":                 {"均值", "Mean"},
	"meanImportance":       {"重要性均值", "Mean importance"},
	"meanSatisfaction":     {"满意度均值", "Mean satisfaction"},
	"note":                 {"象限/说明", "Quadrant / note"},
	"household":            {"住户", "Household"},
	"summary":              {"汇总", "Summary"},
	"questions":            {"题目", "Questions"},
	"responseRate":         {"回收率（答卷/受访范围）", "Response rate (responses / audience)"},
	"satisfaction":         {"满意率（4–5 分占比）", "Satisfaction rate (share of 4-5 scores)"},
	"met":                  {"目标 90%：达标", "Target 90%: met"},
	"notMet":               {"目标 90%：未达标", "Target 90%: not met"},
	"splitImportance":      {"四分图分界：重要性均值", "Quadrant split: mean importance"},
	"splitSatisfaction":    {"四分图分界：满意度均值", "Quadrant split: mean satisfaction"},
	"points":               {"%d 分", "%d points"},
	"meanRating":           {"平均分", "Mean rating"},
	"importance":           {"重要性", "Importance"},
	"satisfactionAxis":     {"满意度", "Satisfaction"},
	"chart":                {"重要性—满意度四分图", "Importance-satisfaction quadrant chart"},
	"legend":               {"分界线为各维度均值：重要性 %s，满意度 %s", "Lines at the means across dimensions: importance %s, satisfaction %s"},
	"noData":               {"暂无评分", "No ratings yet"},
	string(SingleChoice):   {"单选题", "Single choice"},
	string(MultipleChoice): {"多选题", "Multiple choice"},
	string(Rating):         {"评分题", "Rating"},
	string(FreeText):       {"填空题", "Text"},
	string(DimensionQ):     {"维度题", "Dimension"},
}

func tr(key string, lang apperr.Lang) string { return pick(reportText[key], lang) }

// WriteCSV writes the results as CSV for Excel: UTF-8 with a byte order
// mark (without it Excel reads the Chinese as mojibake), CRLF line ends,
// one row per summary figure, per option or score of a question, per text
// answer and per dimension. labels names households for a named survey's
// text answers; an anonymous survey has none to name.
func WriteCSV(w io.Writer, r *Results, lang apperr.Lang, labels map[string]string) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	cols := []string{"section", "number", "question", "type", "item", "count", "base", "share", "mean", "meanImportance", "meanSatisfaction", "note", "household"}
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = tr(c, lang)
	}
	_ = cw.Write(head)
	row := func(v map[string]string) {
		rec := make([]string, len(cols))
		for i, c := range cols {
			rec[i] = cell(v[c])
		}
		_ = cw.Write(rec)
	}
	sum := tr("summary", lang)
	row(map[string]string{"section": sum, "item": tr("responseRate", lang), "count": itoa(r.Responses), "base": itoa(r.Audience), "share": pct(r.ResponseRate)})
	met := tr("notMet", lang)
	if r.Satisfaction.Met {
		met = tr("met", lang)
	}
	row(map[string]string{"section": sum, "item": tr("satisfaction", lang), "count": itoa(r.Satisfaction.Satisfied),
		"base": itoa(r.Satisfaction.Rated), "share": pct(r.Satisfaction.Rate), "note": met})
	row(map[string]string{"section": sum, "item": tr("splitImportance", lang), "mean": num(r.MeanImportance)})
	row(map[string]string{"section": sum, "item": tr("splitSatisfaction", lang), "mean": num(r.MeanSatisfaction)})
	qs := tr("questions", lang)
	for _, qr := range r.Questions {
		q := qr.Question
		base := map[string]string{"section": qs, "number": itoa(q.Number), "question": q.Text, "type": tr(string(q.Type), lang), "base": itoa(qr.Responses)}
		with := func(extra map[string]string) map[string]string {
			out := make(map[string]string, len(base)+len(extra))
			for k, v := range base {
				out[k] = v
			}
			for k, v := range extra {
				out[k] = v
			}
			return out
		}
		switch q.Type {
		case SingleChoice, MultipleChoice:
			for _, o := range qr.Options {
				row(with(map[string]string{"item": o.Option, "count": itoa(o.Count), "share": pct(o.Share)}))
			}
		case Rating:
			for _, sc := range qr.Ratings {
				row(with(map[string]string{"item": fmt.Sprintf(tr("points", lang), sc.Score), "count": itoa(sc.Count), "share": pct(ratio(sc.Count, qr.Responses))}))
			}
			row(with(map[string]string{"item": tr("meanRating", lang), "mean": num(qr.MeanRating)}))
		case FreeText:
			if len(qr.Texts) == 0 {
				row(base)
			}
			for _, t := range qr.Texts {
				row(with(map[string]string{"item": t.Text, "household": labels[t.HouseholdID]}))
			}
		case DimensionQ:
			d := qr.Dimension
			note := ""
			if d.Quadrant != nil {
				note = d.Quadrant.Label(lang)
			}
			row(with(map[string]string{"item": d.Dimension.Label(lang), "count": itoa(d.Satisfied), "share": pct(ratio(d.Satisfied, d.Responses)),
				"meanImportance": num(d.MeanImportance), "meanSatisfaction": num(d.MeanSatisfaction), "note": note}))
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell defuses spreadsheet formulas: residents write the text answers, and
// a cell starting with = + - @ would run as a formula in Excel.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

func pct(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v*100, 'f', 1, 64) + "%"
}

func num(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', 2, 64)
}

// HouseholdIDs are the households named by a survey's text answers (none
// for an anonymous survey), for the CSV's household column.
func (r *Results) HouseholdIDs() []string {
	var ids []string
	for _, qr := range r.Questions {
		for _, t := range qr.Texts {
			if t.HouseholdID != "" {
				ids = append(ids, t.HouseholdID)
			}
		}
	}
	return ids
}
