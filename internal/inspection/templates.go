package inspection

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// Templates returns the current checklist of every area of the community
// (area filters to one): the community's own edit, or the built-in default.
// One query whatever the number of areas.
func (s *Service) Templates(ctx context.Context, c *access.Caller, communityID string, area *Area) ([]*Template, error) {
	if err := s.mustManage(c, communityID); err != nil {
		return nil, err
	}
	q := bson.D{{Key: "communityId", Value: communityID}, {Key: "current", Value: true}}
	areas := Areas
	if area != nil {
		if err := checkArea("area", *area); err != nil {
			return nil, err
		}
		q, areas = append(q, bson.E{Key: "area", Value: *area}), []Area{*area}
	}
	stored, err := mongo.FindMap(ctx, s.templates, q, func(t *Template) string { return string(t.Area) })
	if err != nil {
		return nil, err
	}
	out := make([]*Template, 0, len(areas))
	for _, a := range areas {
		if t, ok := stored[string(a)]; ok {
			out = append(out, t)
		} else {
			out = append(out, Default(communityID, a))
		}
	}
	return out, nil
}

// templateVersion is version v of area's checklist in the community.
func (s *Service) templateVersion(ctx context.Context, communityID string, a Area, v int) (*Template, error) {
	if v == 1 {
		return Default(communityID, a), nil
	}
	var t Template
	err := s.templates.FindOne(ctx, bson.D{{Key: "communityId", Value: communityID}, {Key: "area", Value: a}, {Key: "version", Value: v}}).Decode(&t)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, apperr.Invalid("input.templateVersion", "inspection.no_version")
	}
	if err != nil {
		return nil, fmt.Errorf("checklist %s v%d: %w", a, v, err)
	}
	return &t, nil
}

func (s *Service) currentVersion(ctx context.Context, communityID string, a Area) (int, error) {
	var t Template
	err := s.templates.FindOne(ctx, bson.D{{Key: "communityId", Value: communityID}, {Key: "current", Value: true}, {Key: "area", Value: a}},
		options.FindOne().SetProjection(bson.D{{Key: "version", Value: 1}})).Decode(&t)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("current checklist %s: %w", a, err)
	}
	return t.Version, nil
}

// ItemInput is one line of an edited checklist.
type ItemInput struct {
	Text     string
	Standard string
}

// TemplateInput is an edit of an area's checklist. BaseVersion is the
// version the editor started from: an edit made over someone else's is
// refused rather than silently replacing it.
type TemplateInput struct {
	CommunityID string
	Area        Area
	Name        string
	Items       []ItemInput
	BaseVersion int
}

// UpsertTemplate stores a new version of an area's checklist and makes it
// current. Inspections already recorded keep the version they used.
func (s *Service) UpsertTemplate(ctx context.Context, c *access.Caller, in TemplateInput) (*Template, error) {
	if err := validate.ID("input.communityId", in.CommunityID); err != nil {
		return nil, err
	}
	if err := s.mustManage(c, in.CommunityID); err != nil {
		return nil, err
	}
	if err := checkArea("input.area", in.Area); err != nil {
		return nil, err
	}
	name, err := validate.Text("input.name", in.Name, true, 60)
	if err != nil {
		return nil, err
	}
	if len(in.Items) == 0 {
		return nil, apperr.Invalid("input.items", "input.required")
	}
	if len(in.Items) > MaxItems {
		return nil, apperr.Invalid("input.items", "input.too_many", MaxItems)
	}
	t := &Template{ID: mongo.NewID(), CommunityID: in.CommunityID, Area: in.Area, Name: name, Current: true,
		CreatedBy: c.ID, CreatedAt: s.now().UTC(), Items: make([]Item, len(in.Items))}
	for i, it := range in.Items {
		text, err := validate.Text(fmt.Sprintf("input.items.%d.text", i), it.Text, true, 100)
		if err != nil {
			return nil, err
		}
		std, err := validate.Text(fmt.Sprintf("input.items.%d.standard", i), it.Standard, true, 300)
		if err != nil {
			return nil, err
		}
		t.Items[i] = Item{Seq: i + 1, Text: text, Standard: std}
	}
	cur, err := s.currentVersion(ctx, in.CommunityID, in.Area)
	if err != nil {
		return nil, err
	}
	if in.BaseVersion != cur {
		return nil, ErrTemplateConflict.WithArgs(cur)
	}
	t.Version = cur + 1
	// The unique (community, area, version) index decides between two
	// editors who started from the same version.
	if _, err := s.templates.InsertOne(ctx, t); err != nil {
		if mongo.IsDuplicate(err) {
			return nil, ErrTemplateConflict.WithArgs(t.Version)
		}
		return nil, fmt.Errorf("insert checklist: %w", err)
	}
	if _, err := s.templates.UpdateMany(ctx, bson.D{{Key: "communityId", Value: in.CommunityID}, {Key: "area", Value: in.Area},
		{Key: "current", Value: true}, {Key: "version", Value: bson.D{{Key: "$lt", Value: t.Version}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "current", Value: false}}}}); err != nil {
		return nil, fmt.Errorf("retire old checklist: %w", err)
	}
	return t, nil
}
