package archive

import (
	"context"
	"fmt"
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

// AuditEntry records one read of sensitive archive details.
type AuditEntry struct {
	ID          string    `bson:"_id"`
	At          time.Time `bson:"at"`
	StaffID     string    `bson:"staffId"`
	PersonID    string    `bson:"personId,omitempty"`
	HouseholdID string    `bson:"householdId,omitempty"`
	CommunityID string    `bson:"communityId"`
	Fields      []string  `bson:"fields"`
	Action      string    `bson:"action"` // "read" or "filter"
	SortKey     string    `bson:"sortKey"`
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: "archive_audit", Models: []mgo.IndexModel{
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
		{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "personId", Value: 1}, {Key: "sortKey", Value: 1}}},
	}})
}

// sensitiveFields names what a read of Sensitive discloses.
var sensitiveFields = []string{"sensitive.flags", "sensitive.healthNotes", "sensitive.hardshipNotes"}

// RecordReads writes the audit entries of one request's sensitive reads in
// one insert. A read that cannot be recorded must not be shown, so callers
// fail the field when this fails.
func (s *Service) RecordReads(ctx context.Context, c *access.Caller, reads []SensitiveRead) error {
	return s.insertAudit(ctx, "record sensitive reads", len(reads), func(i int, e *AuditEntry) {
		r := reads[i]
		e.PersonID, e.HouseholdID, e.CommunityID = r.PersonID, r.Via.ID, r.Via.CommunityID
		e.StaffID, e.Fields, e.Action = c.ID, sensitiveFields, "read"
		if r.Field != "" {
			e.Fields = []string{r.Field, r.Subject}
		}
	})
}

// insertAudit writes n audit entries in one insert; fill sets each entry's
// own fields on top of its id, time and sort key. Reads are recorded before
// they are shown, so every caller fails when this fails.
func (s *Service) insertAudit(ctx context.Context, what string, n int, fill func(i int, e *AuditEntry)) error {
	if n == 0 {
		return nil
	}
	now := s.now().UTC()
	docs := make([]any, n)
	for i := range n {
		e := AuditEntry{ID: mongo.NewID(), At: now}
		e.SortKey = page.NewestFirst(now, e.ID)
		fill(i, &e)
		docs[i] = e
	}
	if _, err := s.audit.InsertMany(ctx, docs); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// RecordFilter audits a household list filtered by a sensitive flag.
func (s *Service) RecordFilter(ctx context.Context, c *access.Caller, communityID, flag string) error {
	now := s.now().UTC()
	id := mongo.NewID()
	_, err := s.audit.InsertOne(ctx, AuditEntry{
		ID: id, At: now, StaffID: c.ID, CommunityID: communityID,
		Fields: []string{"careFlags:" + flag}, Action: "filter", SortKey: page.NewestFirst(now, id),
	})
	if err != nil {
		return fmt.Errorf("record sensitive filter: %w", err)
	}
	return nil
}

// AuditLog lists who read sensitive details in a community, newest first:
// supervisors of that community only.
func (s *Service) AuditLog(ctx context.Context, c *access.Caller, communityID, personID string, p page.Request) (page.Page[*AuditEntry], error) {
	var none page.Page[*AuditEntry]
	if err := validate.ID("communityId", communityID); err != nil {
		return none, err
	}
	if !c.SupervisesIn(communityID) {
		return none, apperr.ErrForbidden
	}
	q := bson.D{{Key: "communityId", Value: communityID}}
	if personID != "" {
		if err := validate.ID("personId", personID); err != nil {
			return none, err
		}
		q = append(q, bson.E{Key: "personId", Value: personID})
	}
	if p.After != "" {
		q = append(q, bson.E{Key: "sortKey", Value: bson.D{{Key: page.From, Value: p.After}}})
	}
	cur, err := s.audit.Find(ctx, q, options.Find().SetSort(bson.D{{Key: "sortKey", Value: 1}}).SetLimit(p.Limit()))
	if err != nil {
		return none, fmt.Errorf("audit log: %w", err)
	}
	var list []*AuditEntry
	if err := cur.All(ctx, &list); err != nil {
		return none, fmt.Errorf("audit log: %w", err)
	}
	return page.Trim(list, p, func(e *AuditEntry) string { return e.SortKey }), nil
}
