package archive

import (
	"context"

	"qinqing/internal/access"
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
	return s.insertAudit(ctx, "record sensitive audience reads", len(reads), func(i int, e *AuditEntry) {
		r := reads[i]
		fields := make([]string, 0, len(r.Flags)+1)
		for _, f := range r.Flags {
			fields = append(fields, "careFlags:"+f)
		}
		e.StaffID, e.CommunityID, e.Fields, e.Action = c.ID, r.CommunityID, append(fields, r.Subject), "audience"
	})
}
