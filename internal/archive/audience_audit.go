package archive

import (
	"context"
	"fmt"

	"qinqing/internal/access"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

// AudienceRead is one message (an announcement, a greeting campaign) whose
// audience names sensitive care flags, shown to a supervisor: it tells who
// in the community carries them as a group, so it is audited like a read of
// the archive.
type AudienceRead struct {
	CommunityID string
	Flags       []string // the sensitive flags shown
	Subject     string   // e.g. announcement:<id>, campaign:<id>
}

// RecordAudienceReads writes the audit entries of one request's sensitive
// audience reads in one insert. A read that cannot be recorded must not be
// shown, so callers fail when this fails.
func (s *Service) RecordAudienceReads(ctx context.Context, c *access.Caller, reads []AudienceRead) error {
	if len(reads) == 0 {
		return nil
	}
	now := s.now().UTC()
	docs := make([]any, len(reads))
	for i, r := range reads {
		id := mongo.NewID()
		fields := make([]string, 0, len(r.Flags)+1)
		for _, f := range r.Flags {
			fields = append(fields, "careFlags:"+f)
		}
		fields = append(fields, r.Subject)
		docs[i] = AuditEntry{ID: id, At: now, StaffID: c.ID, CommunityID: r.CommunityID, Fields: fields, Action: "audience", SortKey: page.NewestFirst(now, id)}
	}
	if _, err := s.audit.InsertMany(ctx, docs); err != nil {
		return fmt.Errorf("record sensitive audience reads: %w", err)
	}
	return nil
}
