package archive

import (
	"context"

	"qinqing/internal/access"
)

// AudienceRead is one message (an announcement, a greeting campaign) whose
// audience names sensitive care flags: it tells who in the community carries
// them as a group, so showing it is a read of the archive.
type AudienceRead struct {
	CommunityID string
	Flags       []string // the sensitive flags the audience names
	Subject     string   // e.g. announcement:<id>, campaign:<id>
}

// RevealAudiences is the archive's rule for a group of households named by
// sensitive flags: only the supervisors of its community may see it (a
// butler answers for some households, never for a community-wide group).
// It answers, per read, whether c may see it, and audits the reads it
// allows in one insert before anything is shown; when that insert fails it
// returns the error and callers show none of them.
func (s *Service) RevealAudiences(ctx context.Context, c *access.Caller, reads []AudienceRead) ([]bool, error) {
	shown := make([]bool, len(reads))
	var allowed []AudienceRead
	for i, r := range reads {
		if shown[i] = c.SupervisesIn(r.CommunityID); shown[i] {
			allowed = append(allowed, r)
		}
	}
	err := s.insertAudit(ctx, "record sensitive audience reads", len(allowed), func(i int, e *AuditEntry) {
		r := allowed[i]
		fields := make([]string, 0, len(r.Flags)+1)
		for _, f := range r.Flags {
			fields = append(fields, "careFlags:"+f)
		}
		e.StaffID, e.CommunityID, e.Fields, e.Action = c.ID, r.CommunityID, append(fields, r.Subject), "audience"
	})
	if err != nil {
		return nil, err
	}
	return shown, nil
}
