package greeting

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Limits of a campaign.
const (
	MaxCampaignTitle     = 40
	MaxCampaignText      = 200
	MaxCampaignTextEN    = 500 // English takes more characters than Chinese
	MaxCampaignBuildings = 100
)

// Audiences of a campaign.
const (
	AudienceCommunity          = "COMMUNITY"
	AudienceBuildings          = "BUILDINGS"
	AudienceCareGroup          = "CARE_GROUP"
	AudienceBuildingsCareGroup = "BUILDINGS_CARE_GROUP"
)

// Campaign is a greeting staff sent now.
type Campaign struct {
	ID          string       `bson:"_id"`
	CommunityID string       `bson:"communityId"`
	Audience    string       `bson:"audience"` // one of the Audience* constants
	BuildingIDs []string     `bson:"buildingIds"`
	CareFlag    archive.Flag `bson:"careFlag,omitempty"`
	Title       string       `bson:"title"`
	Text        string       `bson:"text"`
	TextEN      string       `bson:"textEN,omitempty"`
	CreatedBy   string       `bson:"createdBy"` // staff id
	CreatedAt   time.Time    `bson:"createdAt"`
	// Recipients is how many persons the campaign was addressed to; it is
	// set when the fan-out finishes (0 before).
	Recipients int        `bson:"recipients"`
	SentAt     *time.Time `bson:"sentAt,omitempty"`
	SortKey    string     `bson:"sortKey"` // newest first; the page cursor

	// Withheld: a sensitive care group is left out for this reader (see
	// redactCampaigns): CareFlag is empty and the count hidden.
	Withheld bool `bson:"-"`
}

// VisibleRecipients is Recipients as far as the reader may know it: nil
// when its care group is withheld from them (the count would size it).
func (x *Campaign) VisibleRecipients() *int {
	if x.Withheld {
		return nil
	}
	n := x.Recipients
	return &n
}

// Auditor decides who may see a care group named by a sensitive flag and
// records each such read (archive.Service.RevealAudiences).
type Auditor interface {
	RevealAudiences(ctx context.Context, c *access.Caller, reads []archive.AudienceRead) ([]bool, error)
}

// redactCampaigns applies the archive's rule to the care groups campaigns
// were sent to: a sensitive flag (DISABLED, HARDSHIP, CHRONIC_ILLNESS) is
// shown to the community's supervisors only, and each such read audited
// (one insert; not shown if it cannot be recorded). Butlers and admins see
// that it went to a care group, not which one nor how many.
func (s *Service) redactCampaigns(ctx context.Context, c *access.Caller, xs []*Campaign) error {
	var reads []archive.AudienceRead
	var named []*Campaign
	for _, x := range xs {
		if x.CareFlag != "" && x.CareFlag.IsSensitive() {
			named = append(named, x)
			reads = append(reads, archive.AudienceRead{CommunityID: x.CommunityID, Flags: []string{string(x.CareFlag)}, Subject: "campaign:" + x.ID})
		}
	}
	if len(reads) == 0 {
		return nil
	}
	shown := make([]bool, len(reads)) // no auditor: none shown (fail closed)
	if s.audit != nil {
		var err error
		if shown, err = s.audit.RevealAudiences(ctx, c, reads); err != nil {
			return err
		}
	}
	for i, x := range named {
		if !shown[i] {
			x.CareFlag, x.Withheld = "", true
		}
	}
	return nil
}

// CampaignInput is a greeting to send now.
type CampaignInput struct {
	CommunityID string
	BuildingIDs []string     // optional: only these buildings
	CareFlag    archive.Flag // optional: only households with this flag
	Title       string
	Text        string
	TextEN      string // optional: Text is used for English readers too
}

// sendsCampaigns: supervisors and butlers of the community.
func sendsCampaigns(id string) func(*access.Caller) bool {
	return func(c *access.Caller) bool { return c.StaffIn(id, access.Supervisor, access.Butler) }
}

// SendCampaign stores a campaign and sends it to the persons of the
// community's households (narrowed to buildings and/or a care flag), as a
// festival greeting with key campaign:<id>. Supervisors and butlers of the
// community; a health or hardship care flag needs a supervisor. The fan-out
// runs in the request, guarded by a run document like the scheduler's, so
// if this process dies midway another finishes it within minutes.
func (s *Service) SendCampaign(ctx context.Context, c *access.Caller, in CampaignInput) (*Campaign, error) {
	if err := s.authorize(ctx, c, in.CommunityID, sendsCampaigns(in.CommunityID)); err != nil {
		return nil, err
	}
	title, err := validate.Text("input.title", in.Title, true, MaxCampaignTitle)
	if err != nil {
		return nil, err
	}
	text, err := validate.Text("input.text", in.Text, true, MaxCampaignText)
	if err != nil {
		return nil, err
	}
	textEN, err := validate.Text("input.textEN", in.TextEN, false, MaxCampaignTextEN)
	if err != nil {
		return nil, err
	}
	if in.CareFlag != "" {
		if !validFlag(in.CareFlag) {
			return nil, apperr.Invalid("input.careFlag", "input.bad_value")
		}
		if in.CareFlag.IsSensitive() && !c.SupervisesIn(in.CommunityID) {
			return nil, ErrSensitiveCampaign
		}
	}
	buildings, err := s.communities.CheckBuildings(ctx, "input.buildingIds", in.CommunityID, in.BuildingIDs, MaxCampaignBuildings)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	x := &Campaign{
		ID: mongo.NewID(), CommunityID: in.CommunityID, BuildingIDs: buildings, CareFlag: in.CareFlag,
		Title: title, Text: text, TextEN: textEN, CreatedBy: c.ID, CreatedAt: now,
	}
	x.Audience = audienceOf(x)
	x.SortKey = page.NewestFirst(now, x.ID)
	if _, err := s.campaigns.InsertOne(ctx, x); err != nil {
		return nil, fmt.Errorf("insert campaign: %w", err)
	}
	r := run{ID: "campaign:" + x.ID, Kind: runCampaign, CommunityID: x.CommunityID, CampaignID: x.ID,
		StartedAt: now, HeartbeatAt: now, Owner: s.owner, Attempts: 1}
	if _, err := s.runs.InsertOne(ctx, r); err != nil {
		return nil, fmt.Errorf("start campaign run: %w", err)
	}
	// A client that goes away does not cut the fan-out short.
	if err := s.execute(context.WithoutCancel(ctx), now, r); err != nil {
		// The campaign is accepted; the sweep of a later Tick finishes it.
		s.log.Error("greeting campaign fan-out", "campaign", x.ID, "err", err)
		return x, nil
	}
	return s.campaign(ctx, x.ID)
}

func audienceOf(x *Campaign) string {
	switch {
	case len(x.BuildingIDs) > 0 && x.CareFlag != "":
		return AudienceBuildingsCareGroup
	case len(x.BuildingIDs) > 0:
		return AudienceBuildings
	case x.CareFlag != "":
		return AudienceCareGroup
	}
	return AudienceCommunity
}

func (s *Service) campaign(ctx context.Context, id string) (*Campaign, error) {
	var x Campaign
	if err := s.campaigns.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&x); err != nil {
		return nil, fmt.Errorf("find campaign %s: %w", id, err)
	}
	return &x, nil
}

// sendCampaign is the fan-out of a campaign run.
func (s *Service) sendCampaign(ctx context.Context, r run, hb *heartbeat) (int, error) {
	x, err := s.campaign(ctx, r.CampaignID)
	if err != nil {
		return 0, err
	}
	textEN := x.TextEN
	if textEN == "" {
		textEN = x.Text
	}
	msg := notify.Message{
		Kind: notify.FestivalGreeting, Key: "campaign:" + x.ID,
		// The festival greeting's title is "{{.festival}}快乐"; title is
		// passed too for a template that shows a campaign title as is.
		Vars: map[string]any{"festival": x.Title, "festivalEN": x.Title, "title": x.Title, "text": x.Text, "textEN": textEN},
		Data: map[string]string{"campaignId": x.ID},
	}
	total := 0
	a := audience{CommunityID: x.CommunityID, BuildingIDs: x.BuildingIDs, CareFlag: string(x.CareFlag)}
	err = s.eachPersons(ctx, a, func(ids []string) error {
		msg.Recipients = recipients(x.CommunityID, ids)
		if _, err := s.sender.Send(ctx, msg); err != nil {
			return err
		}
		total += len(ids)
		hb.beat(ctx)
		return nil
	})
	return total, err
}

// Campaigns lists the community's campaigns, newest first. Supervisors and
// butlers of the community, and admins.
func (s *Service) Campaigns(ctx context.Context, c *access.Caller, communityID string, p page.Request) (page.Page[*Campaign], error) {
	var none page.Page[*Campaign]
	if err := s.authorize(ctx, c, communityID, editsGreetings(communityID)); err != nil {
		return none, err
	}
	q := bson.D{{Key: "communityId", Value: communityID}}
	if p.After != "" {
		q = append(q, bson.E{Key: "sortKey", Value: bson.D{{Key: page.From, Value: p.After}}})
	}
	cur, err := s.campaigns.Find(ctx, q, options.Find().SetSort(bson.D{{Key: "sortKey", Value: 1}}).SetLimit(p.Limit()))
	if err != nil {
		return none, fmt.Errorf("list campaigns: %w", err)
	}
	list := []*Campaign{}
	if err := cur.All(ctx, &list); err != nil {
		return none, fmt.Errorf("list campaigns: %w", err)
	}
	pg := page.Trim(list, p, func(x *Campaign) string { return x.SortKey })
	if err := s.redactCampaigns(ctx, c, pg.Items); err != nil {
		return none, err
	}
	return pg, nil
}
