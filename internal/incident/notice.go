package incident

import (
	"context"
	"fmt"
	"slices"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
)

// Sender is the notification engine.
type Sender interface {
	Send(ctx context.Context, m notify.Message) (int, error)
}

// TypeNames are the types as notices and reports name them (zh, en).
var TypeNames = map[Type][2]string{
	FireAlarm: {"火警", "fire alarm"}, WaterLeak: {"漏水", "water leak"}, Injury: {"人员受伤", "injury"},
	Theft: {"盗窃", "theft"}, Dispute: {"纠纷", "dispute"}, Other: {"其他事件", "other incident"},
}

// notifyReported tells the community's security supervisors (supervisors
// when it has none) and the staff named as told that x was reported; not
// whoever recorded or reported it, who knows. The key is the incident's, so
// a retried upload (which calls it again, in case the first send failed
// after the insert) tells nobody twice. Only type, place, time and the
// reporter's name: the description may name residents or their injuries,
// which follow the archive's rule; a resident reporter is not named.
func (s *Service) notifyReported(ctx context.Context, x *Incident) error {
	if s.cfg.Sender == nil {
		return nil
	}
	leads, err := s.cfg.Staff.WithRole(ctx, x.CommunityID, access.SecuritySupervisor)
	if err != nil {
		return fmt.Errorf("incident notice: %w", err)
	}
	if len(leads) == 0 {
		if leads, err = s.cfg.Staff.WithRole(ctx, x.CommunityID, access.Supervisor); err != nil {
			return fmt.Errorf("incident notice: %w", err)
		}
	}
	ids := make([]string, 0, len(leads)+len(x.NotifiedStaffIDs))
	for _, st := range leads {
		ids = append(ids, st.ID)
	}
	ids = union(ids, x.NotifiedStaffIDs)
	ids = slices.DeleteFunc(ids, func(id string) bool { return id == x.RecordedBy || id == x.Reporter.StaffID })
	if len(ids) == 0 {
		return nil
	}
	rs := make([]notify.Recipient, len(ids))
	for i, id := range ids {
		rs[i] = notify.Recipient{Kind: auth.KindStaff, ID: id, CommunityID: x.CommunityID}
	}
	who, whoEN, err := s.reporterName(ctx, x.Reporter)
	if err != nil {
		return err
	}
	kind := notify.IncidentReported
	if x.Type == FireAlarm || x.Type == Injury {
		kind = notify.IncidentUrgent
	}
	at := x.OccurredAt.In(s.zone(x.CommunityID))
	names := TypeNames[x.Type]
	_, err = s.cfg.Sender.Send(ctx, notify.Message{Kind: kind, Key: "incident:reported:" + x.ID, Recipients: rs,
		Vars: map[string]any{"type": names[0], "typeEN": names[1], "place": x.Location,
			"time": at.Format("1月2日 15:04"), "timeEN": at.Format("Jan 2 15:04"), "reporter": who, "reporterEN": whoEN},
		Data: map[string]string{"incidentId": x.ID, "type": string(x.Type)}, At: x.RecordedAt})
	if err != nil {
		return fmt.Errorf("incident notice: %w", err)
	}
	return nil
}

func (s *Service) reporterName(ctx context.Context, r Reporter) (string, string, error) {
	switch r.Kind {
	case ByStaff:
		found, err := s.cfg.Staff.ByIDs(ctx, []string{r.StaffID})
		if err != nil {
			return "", "", fmt.Errorf("incident notice reporter: %w", err)
		}
		if st := found[r.StaffID]; st != nil {
			return st.Name, st.Name, nil
		}
		return "员工", "a staff member", nil
	case ByResident:
		return "住户", "a resident", nil
	}
	return r.Name, r.Name, nil
}

func (s *Service) zone(communityID string) *time.Location {
	if s.cfg.Zone == nil {
		return time.UTC
	}
	return s.cfg.Zone(communityID)
}
