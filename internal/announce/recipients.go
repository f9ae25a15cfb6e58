package announce

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

// recipientEntry is one person an announcement was sent to, written at
// publish time; its _id is readID(announcement, person).
type recipientEntry struct {
	ID             string    `bson:"_id"`
	AnnouncementID string    `bson:"announcementId"`
	PersonID       string    `bson:"personId"`
	CommunityID    string    `bson:"communityId"`
	SortKey        string    `bson:"sortKey"`
	SendAt         time.Time `bson:"sendAt"`
}

// fixRecipients stores the recipient list of a in unordered batches (one
// command on MongoDB), then marks the list complete. Writing it again (a
// resumed publish) adds only what is missing.
func (s *Service) fixRecipients(ctx context.Context, a *Announcement, rs []notify.Recipient) error {
	if len(rs) > 0 {
		models := make([]mgo.WriteModel, len(rs))
		for i, r := range rs {
			models[i] = mgo.NewInsertOneModel().SetDocument(recipientEntry{
				ID: readID(a.ID, r.ID), AnnouncementID: a.ID, PersonID: r.ID, CommunityID: a.CommunityID, SortKey: a.SortKey, SendAt: a.SendAt,
			})
		}
		if err := s.db.BulkWrite(ctx, s.inbox, models); err != nil && !mongo.IsDuplicate(err) {
			return fmt.Errorf("store recipients of %s: %w", a.ID, err)
		}
	}
	_, err := s.col.UpdateOne(ctx, bson.D{{Key: "_id", Value: a.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "recipientsFixed", Value: true}, {Key: "recipients", Value: len(rs)}}}})
	if err != nil {
		return fmt.Errorf("fix recipients of %s: %w", a.ID, err)
	}
	a.RecipientsFixed, a.Recipients = true, len(rs)
	return nil
}

// storedRecipients reads the fixed recipient list of a: one query.
func (s *Service) storedRecipients(ctx context.Context, a *Announcement) ([]notify.Recipient, error) {
	var es []recipientEntry
	if err := findAll(ctx, s.inbox, bson.D{{Key: "announcementId", Value: a.ID}}, &es,
		options.Find().SetProjection(bson.D{{Key: "personId", Value: 1}}).SetSort(bson.D{{Key: "_id", Value: 1}})); err != nil {
		return nil, fmt.Errorf("recipients of %s: %w", a.ID, err)
	}
	out := make([]notify.Recipient, len(es))
	for i, e := range es {
		out[i] = notify.Recipient{Kind: auth.KindPerson, ID: e.PersonID, CommunityID: a.CommunityID}
	}
	return out, nil
}

// residentList is a resident's page of the community's announcements: those
// they were a recipient of, once sent. One query on their entries, one $in
// on the announcements.
func (s *Service) residentList(ctx context.Context, c *access.Caller, communityID string, p page.Request) (page.Page[*Announcement], error) {
	var none page.Page[*Announcement]
	q := bson.D{{Key: "personId", Value: c.ID}, {Key: "communityId", Value: communityID},
		{Key: "sendAt", Value: bson.D{{Key: "$lte", Value: s.now().UTC()}}}}
	if p.After != "" {
		q = append(q, bson.E{Key: "sortKey", Value: bson.D{{Key: page.From, Value: p.After}}})
	}
	var es []recipientEntry
	if err := findAll(ctx, s.inbox, q, &es, options.Find().SetSort(bson.D{{Key: "sortKey", Value: 1}}).SetLimit(p.Limit())); err != nil {
		return none, fmt.Errorf("list announcements: %w", err)
	}
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.AnnouncementID
	}
	var found []*Announcement
	if len(ids) > 0 {
		if err := findAll(ctx, s.col, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, &found); err != nil {
			return none, fmt.Errorf("list announcements: %w", err)
		}
	}
	byID := make(map[string]*Announcement, len(found))
	for _, a := range found {
		byID[a.ID] = a
	}
	list := make([]*Announcement, 0, len(ids))
	for _, id := range ids {
		if a := byID[id]; a != nil {
			list = append(list, a)
		}
	}
	pg := page.Trim(list, p, func(a *Announcement) string { return a.SortKey })
	if err := s.decorate(ctx, c, pg.Items); err != nil {
		return none, err
	}
	return pg, nil
}

// redact shows each reader only what they may know of an audience.
//
//   - A resident sees only that they are a recipient (Audience.You): no
//     buildings, no care flags, no count of who else got it — a care-group
//     audience would otherwise tell them their neighbours' flags.
//   - Staff of the community see the audience, except that a sensitive
//     care flag (DISABLED, HARDSHIP, CHRONIC_ILLNESS) is for the community's
//     supervisors only (the archive's rule for a group of households,
//     archive.Service.RevealAudiences). Others get it withheld (Audience.Withheld)
//     and no counts. A supervisor's read is audited; a read that cannot be
//     recorded is not shown.
func (s *Service) redact(ctx context.Context, c *access.Caller, as []*Announcement) error {
	var reads []archive.AudienceRead
	var named []*Announcement
	for _, a := range as {
		if !c.WorksIn(a.CommunityID) {
			a.Audience = Audience{BuildingIDs: []string{}, CareFlags: []archive.Flag{}, You: true}
			a.countsHidden = true
			continue
		}
		if hasSensitive(a.Audience.CareFlags) {
			named = append(named, a)
			reads = append(reads, archive.AudienceRead{CommunityID: a.CommunityID, Subject: "announcement:" + a.ID,
				Flags: flagStrings(slices.DeleteFunc(slices.Clone(a.Audience.CareFlags), func(f archive.Flag) bool { return !f.IsSensitive() }))})
		}
	}
	shown, err := revealed(ctx, s.audit, c, reads)
	if err != nil {
		return err
	}
	for i, a := range named {
		if !shown[i] {
			a.Audience.CareFlags = slices.DeleteFunc(slices.Clone(a.Audience.CareFlags), archive.Flag.IsSensitive)
			a.Audience.Withheld = true
			a.countsHidden = true
		}
	}
	return nil
}

// revealed asks the archive which sensitive audiences c may see; with no
// auditor none is shown (fail closed).
func revealed(ctx context.Context, a Auditor, c *access.Caller, reads []archive.AudienceRead) ([]bool, error) {
	if a == nil || len(reads) == 0 {
		return make([]bool, len(reads)), nil
	}
	return a.RevealAudiences(ctx, c, reads)
}

// migrateLegacy fixes the recipient lists of announcements published
// before lists were kept, from the notification inbox: the persons each
// one was actually sent to (the engine writes one inbox entry per
// recipient). Until its list is written, such an announcement is shown to
// no resident — failing closed for at most one sweep. Inbox entries are
// never deleted, so the list is complete; an announcement with none is
// fixed with an empty list. At most 100 per call; returns how many.
func (s *Service) migrateLegacy(ctx context.Context) (int, error) {
	var as []*Announcement
	if err := findAll(ctx, s.col, bson.D{{Key: "recipientsFixed", Value: bson.D{{Key: "$exists", Value: false}}}}, &as,
		options.Find().SetLimit(100)); err != nil {
		return 0, fmt.Errorf("legacy announcements: %w", err)
	}
	for i, a := range as {
		rs, err := s.legacy.Recipients(ctx, "announcement:"+a.ID)
		if err != nil {
			return i, err
		}
		if err := s.fixRecipients(ctx, a, rs); err != nil {
			return i, err
		}
	}
	return len(as), nil
}

// legacyRecipients reads who an announcement was sent to from the
// notification engine's inbox, for migrateLegacy only: a read-only,
// projected query on the engine's collection (the engine offers no such
// list), like householdFinder.
type legacyRecipients struct{ col *mgo.Collection }

func (l legacyRecipients) Recipients(ctx context.Context, key string) ([]notify.Recipient, error) {
	var rows []struct {
		RecipientKind string `bson:"recipientKind"`
		RecipientID   string `bson:"recipientId"`
		CommunityID   string `bson:"communityId"`
	}
	err := findAll(ctx, l.col, bson.D{{Key: "key", Value: key}}, &rows,
		options.Find().SetProjection(bson.D{{Key: "recipientKind", Value: 1}, {Key: "recipientId", Value: 1}, {Key: "communityId", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("inbox entries of %s: %w", key, err)
	}
	out := make([]notify.Recipient, 0, len(rows))
	for _, r := range rows {
		if r.RecipientKind == string(auth.KindPerson) {
			out = append(out, notify.Recipient{Kind: auth.KindPerson, ID: r.RecipientID, CommunityID: r.CommunityID})
		}
	}
	return out, nil
}
