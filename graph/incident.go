package graph

import (
	"context"

	"qinqing/internal/archive"
)

// The incident lists' bounds (see listBounds): an incident names at most
// 20 buildings, 20 staff told and 20 residents, records at most 100
// actions, and has a few timeline steps besides them.
func init() {
	for k, v := range map[string]int{
		"Incident.buildings":         5,
		"Incident.notifiedStaff":     5,
		"Incident.actions":           10,
		"Incident.residentsInvolved": 5,
		"Incident.timeline":          10,
	} {
		listBounds[k] = v
	}
}

// auditReads puts sensitive reads on the archive's audit log before what
// they disclose is shown: one insert for every read of the response (the
// Audit loader's batch).
func auditReads(ctx context.Context, reads []archive.SensitiveRead) error {
	thunks := make([]func() (bool, error), len(reads))
	for i, rd := range reads {
		thunks[i] = loaders(ctx).Audit.LoadThunk(ctx, rd)
	}
	for _, th := range thunks {
		if _, err := th(); err != nil {
			return err
		}
	}
	return nil
}
