package enquiry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// FaqEntry is an answer kept for everyone (疑难解答) in one community.
type FaqEntry struct {
	ID            string   `bson:"_id"`
	CommunityID   string   `bson:"communityId"`
	Question      string   `bson:"question"`
	Answer        string   `bson:"answer"`
	QuestionEN    string   `bson:"questionEn,omitempty"`
	AnswerEN      string   `bson:"answerEn,omitempty"`
	Category      Category `bson:"category"`
	Tags          []string `bson:"tags"`
	Published     bool     `bson:"published"`
	FromEnquiryID string   `bson:"fromEnquiryId,omitempty"`
	// Grams are the character bigrams and single characters of the
	// searchable text (see Grams): Chinese has no spaces to split words on,
	// and neither server's $text segments it.
	Grams     []string  `bson:"grams"`
	Reads     int64     `bson:"reads"`
	CreatedBy string    `bson:"createdBy"`
	UpdatedBy string    `bson:"updatedBy"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
	SortKey   string    `bson:"sortKey"` // newest first
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: "faq_entries", Models: []mgo.IndexModel{
		// Search: a multikey index on the grams within the community.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "grams", Value: 1}}},
		// Browsing, newest first, and the most read.
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "published", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "published", Value: 1}, {Key: "reads", Value: -1}}},
	}})
}

// Grams returns the distinct single characters and adjacent pairs of the
// letters and digits of texts, lower-cased; pairs never span a space or a
// punctuation mark.
func Grams(texts ...string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(g string) {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	for _, t := range texts {
		for _, run := range runs(t) {
			for i, r := range run {
				add(string(r))
				if i > 0 {
					add(string(run[i-1 : i+1]))
				}
			}
		}
	}
	return out
}

// queryGrams are what a search term must all match: the bigrams of each run
// of two or more characters, the character itself of a run of one.
func queryGrams(term string) []string {
	var out []string
	for _, run := range runs(term) {
		if len(run) == 1 {
			out = append(out, string(run))
			continue
		}
		for i := 1; i < len(run); i++ {
			if g := string(run[i-1 : i+1]); !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	return out
}

func runs(s string) [][]rune {
	var out [][]rune
	var cur []rune
	for _, r := range strings.ToLower(s) {
		if isWordRune(r) {
			cur = append(cur, r)
			continue
		}
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// mayPublish: front-desk staff, butlers and supervisors of the community.
func mayPublish(c *access.Caller, communityID string) bool { return handles(c, communityID) }

// mayRead: residents of the community and its staff.
func mayRead(c *access.Caller, communityID string) bool {
	if c.WorksIn(communityID) {
		return true
	}
	for _, m := range c.Memberships {
		if c.IsPerson() && m.CommunityID == communityID {
			return true
		}
	}
	return false
}

// PublishInput is an FAQ entry as staff write it; ID edits an existing one.
type PublishInput struct {
	ID            string
	CommunityID   string
	FromEnquiryID string
	Question      string
	Answer        string
	QuestionEN    string
	AnswerEN      string
	Category      Category
	Tags          []string
}

// Publish creates or edits a published FAQ entry. Published from an
// enquiry, the enquiry is linked to it (it then counts as covered).
func (s *Service) Publish(ctx context.Context, c *access.Caller, in PublishInput) (*FaqEntry, error) {
	f := &FaqEntry{}
	now := s.now()
	if in.ID != "" {
		old, err := s.faqByID(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		if !mayRead(c, old.CommunityID) {
			return nil, ErrFaqNotFound
		}
		*f = *old
		in.CommunityID = old.CommunityID
	} else {
		if err := validate.ID("input.communityId", in.CommunityID); err != nil {
			return nil, err
		}
		f.ID, f.CommunityID, f.CreatedBy, f.CreatedAt = mongo.NewID(), in.CommunityID, c.ID, now
		f.SortKey = page.NewestFirst(now, f.ID)
	}
	if !mayPublish(c, in.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	var err error
	if f.Question, err = validate.Text("input.question", in.Question, true, 200); err != nil {
		return nil, err
	}
	if f.Answer, err = validate.Text("input.answer", in.Answer, true, 2000); err != nil {
		return nil, err
	}
	if f.QuestionEN, err = validate.Text("input.questionEn", in.QuestionEN, false, 300); err != nil {
		return nil, err
	}
	if f.AnswerEN, err = validate.Text("input.answerEn", in.AnswerEN, false, 3000); err != nil {
		return nil, err
	}
	if !slices.Contains(Categories, in.Category) {
		return nil, apperr.Invalid("input.category", "input.bad_value")
	}
	f.Category = in.Category
	if len(in.Tags) > 10 {
		return nil, apperr.Invalid("input.tags", "input.too_many", 10)
	}
	f.Tags = []string{}
	for i, t := range in.Tags {
		t, err := validate.Text(fmt.Sprintf("input.tags.%d", i), t, true, 20)
		if err != nil {
			return nil, err
		}
		f.Tags = append(f.Tags, t)
	}
	if in.FromEnquiryID != "" {
		x, err := s.Get(ctx, c, in.FromEnquiryID)
		if err != nil {
			return nil, err
		}
		if x.CommunityID != f.CommunityID {
			return nil, apperr.Invalid("input.fromEnquiryId", "enquiry.faq_other_estate")
		}
		f.FromEnquiryID = x.ID
	}
	f.Published, f.UpdatedBy, f.UpdatedAt = true, c.ID, now
	f.Grams = Grams(append([]string{f.Question, f.Answer, f.QuestionEN, f.AnswerEN}, f.Tags...)...)
	if _, err := s.faq.ReplaceOne(ctx, bson.D{{Key: "_id", Value: f.ID}}, f, options.Replace().SetUpsert(true)); err != nil {
		return nil, fmt.Errorf("publish faq entry: %w", err)
	}
	if f.FromEnquiryID != "" {
		if _, err := s.col.UpdateOne(ctx, bson.D{{Key: "_id", Value: f.FromEnquiryID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "faqEntryId", Value: f.ID}}}}); err != nil {
			return nil, fmt.Errorf("link enquiry to faq entry: %w", err)
		}
	}
	return f, nil
}

// Unpublish takes an entry off the residents' list; Publish with its id
// puts it back.
func (s *Service) Unpublish(ctx context.Context, c *access.Caller, id string) (*FaqEntry, error) {
	f, err := s.faqByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !mayRead(c, f.CommunityID) {
		return nil, ErrFaqNotFound
	}
	if !mayPublish(c, f.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	now := s.now()
	if _, err := s.faq.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "published", Value: false}, {Key: "updatedBy", Value: c.ID}, {Key: "updatedAt", Value: now}}}}); err != nil {
		return nil, fmt.Errorf("unpublish faq entry: %w", err)
	}
	f.Published, f.UpdatedBy, f.UpdatedAt = false, c.ID, now
	return f, nil
}

// Read returns an entry and counts a resident's read of it (staff managing
// the list do not make an entry "most read"). Unpublished entries are for
// the publishers only.
func (s *Service) Read(ctx context.Context, c *access.Caller, id string) (*FaqEntry, error) {
	f, err := s.faqByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !mayRead(c, f.CommunityID) || (!f.Published && !mayPublish(c, f.CommunityID)) {
		return nil, ErrFaqNotFound
	}
	if c.IsPerson() && f.Published {
		if _, err := s.faq.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "reads", Value: 1}}}}); err != nil {
			return nil, fmt.Errorf("count faq read: %w", err)
		}
		f.Reads++
	}
	return f, nil
}

func (s *Service) faqByID(ctx context.Context, id string) (*FaqEntry, error) {
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	return mongo.FindByID[FaqEntry](ctx, s.faq, id, ErrFaqNotFound)
}

// FaqByIDs loads entries by id (the enquiry's linked entry), for loaders.
func (s *Service) FaqByIDs(ctx context.Context, ids []string) (map[string]*FaqEntry, error) {
	return mongo.ByIDs(ctx, s.faq, ids, func(f *FaqEntry) string { return f.ID })
}
