package enquiry

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// MaxCandidates bounds what one search ranks: the most read entries that
// contain every gram of the term.
const MaxCandidates = 200

// FaqQuery is a list or search of a community's FAQ.
type FaqQuery struct {
	CommunityID string
	Search      string
	Category    Category
}

// Faq lists a community's published entries: newest first, or, with a
// search term, ranked: the term in the question first, then in the answer
// or tags, then the rest (all grams present but apart), each by reads.
func (s *Service) Faq(ctx context.Context, c *access.Caller, fq FaqQuery, p page.Request) (page.Page[*FaqEntry], error) {
	var none page.Page[*FaqEntry]
	if err := validate.ID("communityId", fq.CommunityID); err != nil {
		return none, err
	}
	if !mayRead(c, fq.CommunityID) {
		return none, apperr.ErrForbidden
	}
	q := bson.D{{Key: "communityId", Value: fq.CommunityID}, {Key: "published", Value: true}}
	if fq.Category != "" {
		if !slices.Contains(Categories, fq.Category) {
			return none, apperr.Invalid("category", "input.bad_value")
		}
		q = append(q, bson.E{Key: "category", Value: fq.Category})
	}
	term, err := validate.Text("search", fq.Search, false, 50)
	if err != nil {
		return none, err
	}
	if term == "" {
		return mongo.FindPage(ctx, s.faq, q, p, mongo.PageQuery{Omit: []string{"grams"}}, func(f *FaqEntry) string { return f.SortKey })
	}
	grams := queryGrams(term)
	if len(grams) == 0 {
		return page.Trim([]*FaqEntry{}, p, func(f *FaqEntry) string { return f.ID }), nil
	}
	q = append(q, bson.E{Key: "grams", Value: bson.D{{Key: "$all", Value: grams}}})
	cur, err := s.faq.Find(ctx, q, options.Find().SetSort(bson.D{{Key: "reads", Value: -1}, {Key: "_id", Value: 1}}).
		SetLimit(MaxCandidates).SetProjection(bson.D{{Key: "grams", Value: 0}}))
	if err != nil {
		return none, fmt.Errorf("search faq: %w", err)
	}
	var found []*FaqEntry
	if err := cur.All(ctx, &found); err != nil {
		return none, fmt.Errorf("search faq: %w", err)
	}
	return rank(found, term, p), nil
}

// rank orders candidates and cuts the page. The cursor is the rank key
// (tier, reads, id), so it stays valid while nobody reads or edits.
func rank(found []*FaqEntry, term string, p page.Request) page.Page[*FaqEntry] {
	t := fold(term)
	keys := make(map[*FaqEntry]string, len(found))
	for _, f := range found {
		tier := 2
		switch {
		case strings.Contains(fold(f.Question), t) || strings.Contains(fold(f.QuestionEN), t):
			tier = 0
		case strings.Contains(fold(f.Answer), t) || strings.Contains(fold(f.AnswerEN), t) || strings.Contains(fold(strings.Join(f.Tags, " ")), t):
			tier = 1
		}
		keys[f] = fmt.Sprintf("%d|%019d|%s", tier, int64(1<<62)-f.Reads, f.ID)
	}
	sort.Slice(found, func(i, j int) bool { return keys[found[i]] < keys[found[j]] })
	from := 0
	for i, f := range found {
		if keys[f] < p.After {
			from = i + 1
		}
	}
	pg := page.Trim(found[from:], p, func(f *FaqEntry) string { return keys[f] })
	pg.Total = len(found)
	return pg
}

// fold keeps letters and digits, lower-cased: "停车证 怎么办理？" contains "停车证怎么".
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if isWordRune(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// QuestionCount is a question asked without an FAQ entry, and how often.
type QuestionCount struct {
	Category Category
	Question string // one asking of it, as written
	Count    int
}

// FaqStats is what supervisors see to decide what to publish.
type FaqStats struct {
	MostRead   []*FaqEntry
	Unanswered []QuestionCount
}

// Stats are the community's most read published entries and the questions
// asked most often since since without an FAQ entry linked (grouped by
// category and normalised question): supervisors of the community.
func (s *Service) Stats(ctx context.Context, c *access.Caller, communityID string, since time.Time, limit int) (*FaqStats, error) {
	if err := validate.ID("communityId", communityID); err != nil {
		return nil, err
	}
	if !c.SupervisesIn(communityID) && !c.IsAdmin() {
		return nil, apperr.ErrForbidden
	}
	limit = min(max(limit, 1), 50)
	cur, err := s.faq.Find(ctx, bson.D{{Key: "communityId", Value: communityID}, {Key: "published", Value: true}},
		options.Find().SetSort(bson.D{{Key: "reads", Value: -1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)).SetProjection(bson.D{{Key: "grams", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("most read faq: %w", err)
	}
	out := &FaqStats{}
	if err := cur.All(ctx, &out.MostRead); err != nil {
		return nil, fmt.Errorf("most read faq: %w", err)
	}
	agg, err := s.col.Aggregate(ctx, bson.A{
		bson.D{{Key: "$match", Value: bson.D{{Key: "communityId", Value: communityID}, {Key: "createdAt", Value: bson.D{{Key: "$gte", Value: since.UTC()}}}, {Key: "faqEntryId", Value: nil}}}},
		bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: bson.D{{Key: "c", Value: "$category"}, {Key: "q", Value: "$normalised"}}}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
		bson.D{{Key: "$sort", Value: bson.D{{Key: "n", Value: -1}}}},
		bson.D{{Key: "$limit", Value: limit}},
	})
	if err != nil {
		return nil, fmt.Errorf("questions without faq: %w", err)
	}
	var groups []struct {
		ID struct {
			C Category `bson:"c"`
			Q string   `bson:"q"`
		} `bson:"_id"`
		N int `bson:"n"`
	}
	if err := agg.All(ctx, &groups); err != nil {
		return nil, fmt.Errorf("questions without faq: %w", err)
	}
	if len(groups) == 0 {
		out.Unanswered = []QuestionCount{}
		return out, nil
	}
	// One asking of each, as written, for the screen: one more query.
	norms := make([]string, len(groups))
	for i, g := range groups {
		norms[i] = g.ID.Q
	}
	ex, err := s.col.Find(ctx, bson.D{{Key: "communityId", Value: communityID}, {Key: "normalised", Value: bson.D{{Key: "$in", Value: norms}}}},
		options.Find().SetProjection(bson.D{{Key: "normalised", Value: 1}, {Key: "question", Value: 1}, {Key: "category", Value: 1}}).SetLimit(int64(20*limit)))
	if err != nil {
		return nil, fmt.Errorf("questions without faq: %w", err)
	}
	var asked []*Enquiry
	if err := ex.All(ctx, &asked); err != nil {
		return nil, fmt.Errorf("questions without faq: %w", err)
	}
	written := map[string]string{}
	for _, x := range asked {
		k := string(x.Category) + "|" + x.Normalised
		if _, ok := written[k]; !ok {
			written[k] = x.Question
		}
	}
	for _, g := range groups {
		q := written[string(g.ID.C)+"|"+g.ID.Q]
		if q == "" {
			q = g.ID.Q
		}
		out.Unanswered = append(out.Unanswered, QuestionCount{Category: g.ID.C, Question: q, Count: g.N})
	}
	return out, nil
}
