// Package announce owns announcements and warm tips (公告/温馨提示) with their
// read receipts, and the progress posts of engineering works in a community
// (工程进度). Both reach residents through the notification engine, whose
// per-(recipient, key) idempotency makes every fan-out safe to repeat.
package announce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
	"qinqing/internal/platform/validate"
)

// Kind says what an announcement is about.
type Kind string

const (
	Notice    Kind = "NOTICE"    // 通知
	WarmTip   Kind = "WARM_TIP"  // 温馨提示: weather, season, festival
	Outage    Kind = "OUTAGE"    // 停水停电
	Emergency Kind = "EMERGENCY" // 紧急通知: urgent, ignores quiet hours, SMS fallback
)

// Kinds lists the valid kinds.
var Kinds = []Kind{Notice, WarmTip, Outage, Emergency}

// Limits of one announcement.
const (
	MaxTitle          = 60
	MaxBody           = 2000
	MaxAudienceItems  = 200
	MaxScheduleAhead  = 90 * 24 * time.Hour
	pastSendAtSlack   = 5 * time.Minute // client clocks drift; older is a mistake
	resumeAfter       = time.Minute     // a fan-out older than this without completion is resumed
	householdInChunks = 500             // $in batch of households when resolving recipients
)

// Audience narrows who gets an announcement inside its community. Empty is
// the whole community; each non-empty list narrows it: BuildingIDs to those
// buildings, CareFlags to households carrying any of the flags, both to
// households of those buildings carrying any of the flags ("elderly living
// alone in building 3").
type Audience struct {
	BuildingIDs []string       `bson:"buildingIds"`
	CareFlags   []archive.Flag `bson:"careFlags"`

	// What a reader is shown of it (see redact): You for a resident, who
	// is shown only that they are a recipient (no buildings, no flags);
	// Withheld for staff from whom a sensitive care group is left out.
	You      bool `bson:"-"`
	Withheld bool `bson:"-"`
}

// Announcement is one 公告 or 温馨提示.
type Announcement struct {
	ID          string    `bson:"_id"`
	CommunityID string    `bson:"communityId"`
	Title       string    `bson:"title"`
	Body        string    `bson:"body"`
	Kind        Kind      `bson:"kind"`
	Audience    Audience  `bson:"audience"`
	Pinned      bool      `bson:"pinned"`
	SendAt      time.Time `bson:"sendAt"` // when residents see it and get the push
	PublishedBy string    `bson:"publishedBy"`
	CreatedAt   time.Time `bson:"createdAt"`
	// Recipients is how many persons the audience resolved to.
	Recipients int `bson:"recipients"`
	// RecipientsFixed is set once the recipient list is stored in full in
	// announcement_recipients at publish time. That list, not the audience
	// as it is today, decides who may read the announcement: a family that
	// moves into a targeted building, or a household that gains a care flag,
	// later never sees an older announcement. Documents from before the list
	// was kept lack the field; ResumePending builds their list from the
	// notification inbox (who it was actually sent to).
	RecipientsFixed bool `bson:"recipientsFixed"`
	// Delivered is set once the fan-out to the notification engine is
	// complete; ResumePending finishes those that are not.
	Delivered bool `bson:"delivered"`
	// SortKey: pinned first, then newest sendAt first; also the page cursor.
	SortKey string `bson:"sortKey"`

	// Read is whether the caller has read it (residents; false for staff).
	Read bool `bson:"-"`
	// ReadCount is the number of read receipts, for staff of the community
	// only; nil for everyone else.
	ReadCount *int `bson:"-"`
	// countsHidden: the caller may not learn how many the audience reached
	// (a resident, or staff from whom a sensitive care group is withheld).
	countsHidden bool
}

// VisibleRecipients is Recipients as far as the reader may know it.
func (a *Announcement) VisibleRecipients() *int {
	if a.countsHidden {
		return nil
	}
	n := a.Recipients
	return &n
}

var (
	ErrNotFound          = apperr.New(apperr.NotFound, "announce.not_found")
	ErrSensitiveAudience = apperr.New(apperr.Forbidden, "announce.sensitive_audience")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"announce.not_found":          {ZH: "公告不存在", EN: "Announcement not found"},
		"announce.sensitive_audience": {ZH: "只有本小区主管可以按敏感关怀标记（残疾、困难、慢性病）发布", EN: "Only supervisors of the community may address a sensitive care flag (disabled, hardship, chronic illness)"},
		"announce.send_at_past":       {ZH: "发送时间不能早于现在", EN: "must not be in the past"},
		"announce.send_at_too_far":    {ZH: "定时发送最多提前 %d 天", EN: "must be at most %d days ahead"},
	})
	mongo.Declare(
		mongo.Indexes{Collection: "announcements", Models: []mgo.IndexModel{
			// Staff list of a community.
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
			// The resume sweep.
			{Keys: bson.D{{Key: "delivered", Value: 1}, {Key: "createdAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: "announcement_reads", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "announcementId", Value: 1}}},
		}},
		// One entry per recipient, fixed at publish (_id announcement:person):
		// a resident's list, and the fan-out's recipients.
		mongo.Indexes{Collection: "announcement_recipients", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "personId", Value: 1}, {Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "announcementId", Value: 1}}},
		}},
	)
}

// Households is what announcements need from the household register.
type Households interface {
	ByIDs(ctx context.Context, ids []string) (map[string]*household.Household, error)
	MembershipsByHouseholds(ctx context.Context, ids []string) (map[string][]*household.Membership, error)
}

// Places is what announcements need from communities.
type Places interface {
	ExistingIDs(ctx context.Context, ids []string) (map[string]bool, error)
	BuildingsByIDs(ctx context.Context, ids []string) (map[string]*community.Building, error)
	CheckBuildings(ctx context.Context, field, communityID string, ids []string, max int) ([]string, error)
}

// Auditor decides who may see an audience named by sensitive care flags and
// records each such read (archive.Service.RevealAudiences).
type Auditor interface {
	RevealAudiences(ctx context.Context, c *access.Caller, reads []archive.AudienceRead) ([]bool, error)
}

// Sender is the notification engine.
type Sender interface {
	Send(ctx context.Context, msg notify.Message) (int, error)
}

// Inbox is the notification inbox, whose entry for an announcement shares
// the announcement's read state (the *notify.Engine).
type Inbox interface {
	MarkKeyRead(ctx context.Context, recipientID, key string, at time.Time) error
}

// AudienceFinder lists the households of an audience. The register has no
// such batch query, so the default is householdFinder, a read-only adapter
// over the "households" collection (see audience.go).
type AudienceFinder interface {
	HouseholdIDs(ctx context.Context, communityID string, buildingIDs, careFlags []string) ([]string, error)
}

// Service runs announcements and project progress.
type Service struct {
	db                   *mongo.DB
	col, reads, progress *mgo.Collection
	inbox                *mgo.Collection // announcement_recipients
	legacy               legacyRecipients
	audit                Auditor
	households           Households
	places               Places
	finder               AudienceFinder
	files                *files.Store
	sender               Sender
	notices              Inbox
	log                  *slog.Logger
	now                  func() time.Time
}

// NewService makes the service. households is *household.Service, places
// *community.Service, sender the *notify.Engine.
func NewService(db *mongo.DB, households Households, places Places, fs *files.Store, sender Sender, log *slog.Logger, now func() time.Time) *Service {
	return &Service{
		db: db, inbox: db.Collection("announcement_recipients"), legacy: legacyRecipients{col: db.Collection("notifications")},
		col: db.Collection("announcements"), reads: db.Collection("announcement_reads"), progress: db.Collection("project_progress"),
		households: households, places: places, finder: householdFinder{col: db.Collection("households")},
		files: fs, sender: sender, log: log, now: now,
	}
}

// WithAuditor sets the audit of sensitive audience reads; without one, a
// sensitive audience is withheld from everyone (fail closed).
func (s *Service) WithAuditor(a Auditor) *Service {
	s.audit = a
	return s
}

// WithInbox makes reading an announcement mark its inbox entry read; wire
// the other direction with notify.Engine.OnRead(InboxKeyPrefix, s.InboxRead).
func (s *Service) WithInbox(in Inbox) *Service {
	s.notices = in
	return s
}

// mayPublish: butlers and supervisors of the community, and admins.
func mayPublish(c *access.Caller, communityID string) bool {
	return c.IsAdmin() || c.StaffIn(communityID, access.Butler, access.Supervisor)
}

// mayPublishKind is mayPublish, and for an EMERGENCY also the community's
// security supervisors: a fire or a flood is theirs to announce (an
// incident's announcement, internal/incident).
func mayPublishKind(k Kind) func(*access.Caller, string) bool {
	if k != Emergency {
		return mayPublish
	}
	return func(c *access.Caller, communityID string) bool {
		return mayPublish(c, communityID) || c.StaffIn(communityID, access.SecuritySupervisor)
	}
}

// Input is a new announcement.
type Input struct {
	CommunityID string
	Title       string
	Body        string
	Kind        Kind
	Audience    Audience
	Pinned      bool
	// SendAt schedules the announcement; nil is now.
	SendAt *time.Time
}

// Publish stores an announcement and sends it to its audience (at SendAt
// when scheduled). A sensitive care flag in the audience is for supervisors
// of the community only. Once the announcement is stored, Publish succeeds:
// a fan-out cut short (the engine failed, the request was cancelled) is
// logged and left with Delivered=false for ResumePending or Republish, which
// complete it without duplicates — failing here would invite a second,
// duplicate announcement from a retrying client.
func (s *Service) Publish(ctx context.Context, c *access.Caller, in Input) (*Announcement, error) {
	if err := s.checkCommunity(ctx, c, "input.communityId", in.CommunityID, mayPublishKind(in.Kind)); err != nil {
		return nil, err
	}
	title, err := validate.Text("input.title", in.Title, true, MaxTitle)
	if err != nil {
		return nil, err
	}
	body, err := validate.Text("input.body", in.Body, true, MaxBody)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(Kinds, in.Kind) {
		return nil, apperr.Invalid("input.kind", "input.bad_value")
	}
	aud, err := s.checkAudience(ctx, c, in.CommunityID, in.Audience)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	sendAt := now
	if in.SendAt != nil {
		at := in.SendAt.UTC()
		switch {
		case at.Before(now.Add(-pastSendAtSlack)):
			return nil, apperr.Invalid("input.sendAt", "announce.send_at_past")
		case at.After(now.Add(MaxScheduleAhead)):
			return nil, apperr.Invalid("input.sendAt", "announce.send_at_too_far", int(MaxScheduleAhead/(24*time.Hour)))
		case at.After(now):
			sendAt = at
		}
	}
	rs, err := s.recipients(ctx, in.CommunityID, aud.BuildingIDs, flagStrings(aud.CareFlags))
	if err != nil {
		return nil, err
	}
	a := &Announcement{
		ID: mongo.NewID(), CommunityID: in.CommunityID, Title: title, Body: body, Kind: in.Kind, Audience: aud,
		Pinned: in.Pinned, SendAt: sendAt, PublishedBy: c.ID, CreatedAt: now, Recipients: len(rs),
	}
	a.SortKey = announcementSortKey(a.Pinned, a.SendAt, a.ID)
	if _, err := s.col.InsertOne(ctx, a); err != nil {
		return nil, fmt.Errorf("insert announcement: %w", err)
	}
	// The recipient list is fixed now, before anything is sent; a failure
	// here leaves RecipientsFixed=false and the sweep completes the list.
	if err := s.fixRecipients(ctx, a, rs); err != nil {
		s.warn(ctx, "announcement recipient list incomplete; it will be resumed", "announcement", a.ID, "err", err)
		zero := 0
		a.ReadCount = &zero
		return a, nil
	}
	if err := s.fanOut(ctx, a, rs); err != nil {
		s.warn(ctx, "announcement fan-out incomplete; it will be resumed", "announcement", a.ID, "err", err)
	}
	zero := 0
	a.ReadCount = &zero
	return a, nil
}

// Republish completes an announcement's fan-out after a failure, to the
// recipients fixed when it was published (never to residents who moved in
// since): the engine writes only what is missing, so nobody gets it twice.
// Same permission as Publish.
func (s *Service) Republish(ctx context.Context, c *access.Caller, id string) (*Announcement, error) {
	a, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if !mayPublishKind(a.Kind)(c, a.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	if a.Audience.Withheld || (hasSensitive(a.Audience.CareFlags) && !c.SupervisesIn(a.CommunityID)) {
		return nil, ErrSensitiveAudience
	}
	// Get redacted the audience for the caller; the fan-out needs it whole.
	var raw Announcement
	if err := s.col.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&raw); err != nil {
		return nil, fmt.Errorf("find announcement %s: %w", id, err)
	}
	if err := s.redeliver(ctx, &raw); err != nil {
		return nil, err
	}
	return s.Get(ctx, c, id)
}

// redeliver sends to the fixed recipient list. A list left incomplete by a
// crash during Publish (minutes old at most: the sweep runs every minute)
// is completed from the audience first.
func (s *Service) redeliver(ctx context.Context, a *Announcement) error {
	if !a.RecipientsFixed {
		rs, err := s.recipients(ctx, a.CommunityID, a.Audience.BuildingIDs, flagStrings(a.Audience.CareFlags))
		if err != nil {
			return err
		}
		if err := s.fixRecipients(ctx, a, rs); err != nil {
			return err
		}
	}
	rs, err := s.storedRecipients(ctx, a)
	if err != nil {
		return err
	}
	return s.fanOut(ctx, a, rs)
}

// fanOut hands the announcement to the engine and marks it delivered.
func (s *Service) fanOut(ctx context.Context, a *Announcement, rs []notify.Recipient) error {
	kind := notify.Announcement
	if a.Kind == Emergency {
		kind = notify.EmergencyNotice
	}
	_, err := s.sender.Send(ctx, notify.Message{
		Kind: kind, Key: InboxKeyPrefix + a.ID, Recipients: rs, NotBefore: a.SendAt,
		Vars: map[string]any{"title": a.Title, "text": a.Body},
		Data: map[string]string{"announcementId": a.ID, "communityId": a.CommunityID, "announcementKind": string(a.Kind)},
	})
	if err != nil {
		return err
	}
	if !a.Delivered {
		a.Delivered = true
		_, err = s.col.UpdateOne(ctx, bson.D{{Key: "_id", Value: a.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "delivered", Value: true}}}})
		if err != nil {
			return fmt.Errorf("mark announcement %s delivered: %w", a.ID, err)
		}
	}
	return nil
}

// ResumePending completes fan-outs of announcements and progress posts that
// were cut short (a crash, a failed engine call) more than a minute ago. Any
// server may run it any time; the engine's keys keep it exactly-once. It
// returns how many were completed.
func (s *Service) ResumePending(ctx context.Context) (int, error) {
	before := s.now().UTC().Add(-resumeAfter)
	q := bson.D{{Key: "delivered", Value: false}, {Key: "createdAt", Value: bson.D{{Key: "$lt", Value: before}}}}
	done, err := s.migrateLegacy(ctx)
	if err != nil {
		return done, err
	}
	var as []*Announcement
	if err := findAll(ctx, s.col, q, &as, options.Find().SetLimit(100)); err != nil {
		return done, fmt.Errorf("pending announcements: %w", err)
	}
	for _, a := range as {
		if err := s.redeliver(ctx, a); err != nil {
			return done, err
		}
		done++
	}
	var ps []*Progress
	if err := findAll(ctx, s.progress, q, &ps, options.Find().SetLimit(100)); err != nil {
		return done, fmt.Errorf("pending progress posts: %w", err)
	}
	for _, p := range ps {
		rs, err := s.recipients(ctx, p.CommunityID, p.BuildingIDs, nil)
		if err != nil {
			return done, err
		}
		if err := s.fanOutProgress(ctx, p, rs); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// checkAudience validates and normalises an audience: buildings of the
// community, known flags, sensitive flags only for its supervisors.
func (s *Service) checkAudience(ctx context.Context, c *access.Caller, communityID string, in Audience) (Audience, error) {
	out := Audience{BuildingIDs: []string{}, CareFlags: []archive.Flag{}}
	bs, err := s.places.CheckBuildings(ctx, "input.audience.buildingIds", communityID, in.BuildingIDs, MaxAudienceItems)
	if err != nil {
		return out, err
	}
	out.BuildingIDs = bs
	if len(in.CareFlags) > len(careFlags) {
		return out, apperr.Invalid("input.audience.careFlags", "input.too_many", len(careFlags))
	}
	for _, f := range in.CareFlags {
		if !slices.Contains(careFlags, f) {
			return out, apperr.Invalid("input.audience.careFlags", "input.bad_value")
		}
		if !slices.Contains(out.CareFlags, f) {
			out.CareFlags = append(out.CareFlags, f)
		}
	}
	// Addressing a sensitive group reveals, by its recipient count, how many
	// households carry the flag: the archive's rule for these flags applies.
	if hasSensitive(out.CareFlags) && !c.SupervisesIn(communityID) {
		return out, ErrSensitiveAudience
	}
	return out, nil
}

// checkCommunity validates a community id and the caller's right to act in
// it: a well-formed unknown community is NOT_FOUND, a known one the caller
// may not act in FORBIDDEN.
func (s *Service) checkCommunity(ctx context.Context, c *access.Caller, field, id string, may func(*access.Caller, string) bool) error {
	if c == nil {
		return apperr.ErrUnauthenticated
	}
	if err := validate.ID(field, id); err != nil {
		return err
	}
	if !may(c, id) {
		return apperr.ErrForbidden
	}
	ok, err := s.places.ExistingIDs(ctx, []string{id})
	if err != nil {
		return err
	}
	if !ok[id] {
		return community.ErrNotFound.WithField(field)
	}
	return nil
}

// careFlags are the archive's flags.
var careFlags = []archive.Flag{archive.ElderlyAlone, archive.Newborn, archive.NeedsAttention, archive.Disabled, archive.Hardship, archive.ChronicIllness}

func hasSensitive(fs []archive.Flag) bool {
	return slices.ContainsFunc(fs, archive.Flag.IsSensitive)
}

func flagStrings(fs []archive.Flag) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

// livesIn reports whether a person caller is a member of a household of the
// community.
func livesIn(c *access.Caller, communityID string) bool {
	if !c.IsPerson() {
		return false
	}
	return slices.ContainsFunc(c.Memberships, func(m access.Membership) bool { return m.CommunityID == communityID })
}

// mayRead: residents of the community and its staff.
func mayRead(c *access.Caller, communityID string) bool {
	return livesIn(c, communityID) || c.WorksIn(communityID)
}

// List is the community's announcements, pinned first then newest. Staff of
// the community see all, scheduled ones included, with read counts; a
// resident sees those whose audience includes one of their households and
// whose send time has come, each with whether they read it.
func (s *Service) List(ctx context.Context, c *access.Caller, communityID string, p page.Request) (page.Page[*Announcement], error) {
	var none page.Page[*Announcement]
	if c == nil {
		return none, apperr.ErrUnauthenticated
	}
	if err := validate.ID("communityId", communityID); err != nil {
		return none, err
	}
	if !mayRead(c, communityID) {
		return none, apperr.ErrForbidden
	}
	if !c.WorksIn(communityID) {
		return s.residentList(ctx, c, communityID, p)
	}
	q := bson.D{{Key: "communityId", Value: communityID}}
	if p.After != "" {
		q = append(q, bson.E{Key: "sortKey", Value: bson.D{{Key: page.From, Value: p.After}}})
	}
	var list []*Announcement
	if err := findAll(ctx, s.col, q, &list, options.Find().SetSort(bson.D{{Key: "sortKey", Value: 1}}).SetLimit(p.Limit())); err != nil {
		return none, fmt.Errorf("list announcements: %w", err)
	}
	pg := page.Trim(list, p, func(a *Announcement) string { return a.SortKey })
	if err := s.decorate(ctx, c, pg.Items); err != nil {
		return none, err
	}
	return pg, nil
}

// Get returns an announcement the caller may see (List's rule); others,
// scheduled ones for residents included, are NOT_FOUND.
func (s *Service) Get(ctx context.Context, c *access.Caller, id string) (*Announcement, error) {
	if c == nil {
		return nil, apperr.ErrUnauthenticated
	}
	if err := validate.ID("id", id); err != nil {
		return nil, err
	}
	var a Announcement
	err := s.col.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&a)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find announcement %s: %w", id, err)
	}
	ok, err := s.canSee(ctx, c, &a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	if err := s.decorate(ctx, c, []*Announcement{&a}); err != nil {
		return nil, err
	}
	return &a, nil
}

// canSee: staff of the community; a resident of it who was a recipient
// when it was published, once it is sent.
func (s *Service) canSee(ctx context.Context, c *access.Caller, a *Announcement) (bool, error) {
	if c.WorksIn(a.CommunityID) {
		return true, nil
	}
	if !livesIn(c, a.CommunityID) || a.SendAt.After(s.now()) {
		return false, nil
	}
	n, err := s.inbox.CountDocuments(ctx, bson.D{{Key: "_id", Value: readID(a.ID, c.ID)}})
	if err != nil {
		return false, fmt.Errorf("recipient of %s: %w", a.ID, err)
	}
	return n > 0, nil
}

// MarkRead records that the calling resident read the announcement, and
// marks its inbox entry read: one read state. Reading again changes
// nothing (the inbox write is repeated, so a crash between the two heals).
// Staff are not recipients: FORBIDDEN.
func (s *Service) MarkRead(ctx context.Context, c *access.Caller, id string) (*Announcement, error) {
	a, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if !c.IsPerson() {
		return nil, apperr.ErrForbidden
	}
	now := s.now().UTC()
	if !a.Read {
		_, err = s.reads.InsertOne(ctx, receipt(a.ID, c.ID, a.CommunityID, now))
		if err != nil && !mongo.IsDuplicate(err) {
			return nil, fmt.Errorf("record read receipt: %w", err)
		}
	}
	if s.notices != nil {
		if err := s.notices.MarkKeyRead(ctx, c.ID, InboxKeyPrefix+a.ID, now); err != nil {
			return nil, err
		}
	}
	a.Read = true
	return a, nil
}

// InboxKeyPrefix starts the message key of an announcement's inbox entries.
const InboxKeyPrefix = "announcement:"

func receipt(announcementID, personID, communityID string, at time.Time) bson.D {
	return bson.D{
		{Key: "_id", Value: readID(announcementID, personID)}, {Key: "announcementId", Value: announcementID}, {Key: "personId", Value: personID},
		{Key: "communityId", Value: communityID}, {Key: "readAt", Value: at},
	}
}

// InboxRead records read receipts for the announcements whose inbox
// entries a person is marking read (notify.ReadListener): one unordered
// insert, receipts that exist kept as they are. An entry exists only for a
// recipient, and the inbox hands over only those already shown.
func (s *Service) InboxRead(ctx context.Context, recipientID string, read []*notify.Notification, at time.Time) error {
	docs := make([]any, 0, len(read))
	for _, n := range read {
		id, ok := strings.CutPrefix(n.Key, InboxKeyPrefix)
		if !ok || id == "" {
			continue
		}
		community := n.Data["communityId"]
		if community == "" {
			community = n.CommunityID
		}
		docs = append(docs, receipt(id, recipientID, community, at.UTC()))
	}
	if len(docs) == 0 {
		return nil
	}
	_, err := s.reads.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bwe mgo.BulkWriteException
	if err != nil && !(errors.As(err, &bwe) && onlyDuplicates(bwe)) {
		return fmt.Errorf("record read receipts: %w", err)
	}
	return nil
}

func onlyDuplicates(e mgo.BulkWriteException) bool {
	if e.WriteConcernError != nil || len(e.WriteErrors) == 0 {
		return false
	}
	for _, we := range e.WriteErrors {
		if we.Code != 11000 {
			return false
		}
	}
	return true
}

// Receipts reports how many recipients read an announcement, for staff of
// its community.
func (s *Service) Receipts(ctx context.Context, c *access.Caller, id string) (read, recipients int, err error) {
	a, err := s.Get(ctx, c, id)
	if err != nil {
		return 0, 0, err
	}
	if !c.WorksIn(a.CommunityID) || a.ReadCount == nil {
		return 0, 0, apperr.ErrForbidden
	}
	return *a.ReadCount, a.Recipients, nil
}

func readID(announcementID, personID string) string { return announcementID + ":" + personID }

// decorate fills Read (residents) or ReadCount (staff) for a page (one
// query) and redacts the audience for the caller (see redact).
func (s *Service) decorate(ctx context.Context, c *access.Caller, as []*Announcement) error {
	if len(as) == 0 {
		return nil
	}
	if err := s.redact(ctx, c, as); err != nil {
		return err
	}
	if c.IsPerson() {
		ids := make([]string, len(as))
		for i, a := range as {
			ids[i] = readID(a.ID, c.ID)
		}
		var rs []struct {
			ID string `bson:"_id"`
		}
		if err := findAll(ctx, s.reads, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, &rs, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}})); err != nil {
			return fmt.Errorf("read receipts: %w", err)
		}
		read := make(map[string]bool, len(rs))
		for _, r := range rs {
			read[r.ID] = true
		}
		for _, a := range as {
			a.Read = read[readID(a.ID, c.ID)]
		}
		return nil
	}
	var ids []string
	for _, a := range as {
		if c.WorksIn(a.CommunityID) && !a.countsHidden {
			ids = append(ids, a.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	cur, err := s.reads.Aggregate(ctx, mgo.Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "announcementId", Value: bson.D{{Key: "$in", Value: ids}}}}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$announcementId"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return fmt.Errorf("count read receipts: %w", err)
	}
	var counts []struct {
		ID string `bson:"_id"`
		N  int    `bson:"n"`
	}
	if err := cur.All(ctx, &counts); err != nil {
		return fmt.Errorf("count read receipts: %w", err)
	}
	byID := make(map[string]int, len(counts))
	for _, n := range counts {
		byID[n.ID] = n.N
	}
	for _, a := range as {
		if c.WorksIn(a.CommunityID) && !a.countsHidden {
			n := byID[a.ID]
			a.ReadCount = &n
		}
	}
	return nil
}

// announcementSortKey puts pinned announcements first, then the newest.
func announcementSortKey(pinned bool, sendAt time.Time, id string) string {
	p := "1"
	if pinned {
		p = "0"
	}
	return p + "|" + page.NewestFirst(sendAt, id)
}

func findAll[T any](ctx context.Context, col *mgo.Collection, q bson.D, out *[]T, opts ...options.Lister[options.FindOptions]) error {
	cur, err := col.Find(ctx, q, opts...)
	if err != nil {
		return err
	}
	return cur.All(ctx, out)
}

func (s *Service) warn(ctx context.Context, msg string, args ...any) {
	if s.log != nil {
		s.log.WarnContext(ctx, msg, args...)
	}
}
