package incident

import (
	"qinqing/internal/access"
	"qinqing/internal/archive"
)

// Fields an incident discloses on the archive audit log.
const (
	ResidentsField = "incident.residents"
	HealthField    = "incident.healthDetails"
)

// mayReadInvolved is the archive's rule (archive.MayReadSensitive) applied
// to every household involved: a butler of one of them does not learn who
// else was. It returns the household each read goes through.
func mayReadInvolved(c *access.Caller, x *Incident) ([]access.HouseholdRef, bool) {
	vias := make([]access.HouseholdRef, len(x.Residents))
	for i, r := range x.Residents {
		via, ok := archive.MayReadSensitive(c, []access.HouseholdRef{{ID: r.HouseholdID, CommunityID: x.CommunityID, BuildingID: r.BuildingID}})
		if !ok {
			return nil, false
		}
		vias[i] = via
	}
	return vias, true
}

// reads are the audit entries of showing field of x: one per resident
// involved, so the archive's log answers "who read about this person".
func reads(x *Incident, vias []access.HouseholdRef, field string) []archive.SensitiveRead {
	out := make([]archive.SensitiveRead, len(x.Residents))
	for i, r := range x.Residents {
		out[i] = archive.SensitiveRead{PersonID: r.PersonID, Via: vias[i], Field: field, Subject: "incident:" + x.ID}
	}
	return out
}

// ResidentsFor returns the residents involved if c may read them, with the
// reads that must be on the archive's audit log before they are shown (the
// graph layer batches them through archive.Service.RecordReads). Others get
// archive.ErrSensitiveForbidden and see only the count (len(x.Residents)).
func ResidentsFor(c *access.Caller, x *Incident) ([]Resident, []archive.SensitiveRead, error) {
	vias, ok := mayReadInvolved(c, x)
	if !ok {
		return nil, nil, archive.ErrSensitiveForbidden
	}
	return x.Residents, reads(x, vias, ResidentsField), nil
}

// HealthFor returns the health details (an injury) under the same rule.
// With no resident involved (a visitor, a worker hurt) no household
// answers for them: the community's supervisors alone read them, as for an
// enquiry tied to no household. No details is no read.
func HealthFor(c *access.Caller, x *Incident) (string, []archive.SensitiveRead, error) {
	if len(x.Residents) == 0 {
		if !c.SupervisesIn(x.CommunityID) {
			return "", nil, archive.ErrSensitiveForbidden
		}
		if x.HealthDetails == "" {
			return "", nil, nil
		}
		return x.HealthDetails, []archive.SensitiveRead{{Via: access.HouseholdRef{CommunityID: x.CommunityID}, Field: HealthField, Subject: "incident:" + x.ID}}, nil
	}
	vias, ok := mayReadInvolved(c, x)
	if !ok {
		return "", nil, archive.ErrSensitiveForbidden
	}
	if x.HealthDetails == "" {
		return "", nil, nil
	}
	return x.HealthDetails, reads(x, vias, HealthField), nil
}
