package staff

import (
	"context"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
)

// Sessions ends sessions; the identity service implements it.
type Sessions interface {
	// RevokeSubject ends every session of one staff member or person.
	RevokeSubject(ctx context.Context, subjectID string) error
}

// UseSessions lets deactivation end the staff member's sessions at once
// (set after construction: identity is built on this service).
func (s *Service) UseSessions(sess Sessions) { s.sessions = sess }

// endSessions runs after a staff member is deactivated. Their access
// tokens already stop working because Caller refuses inactive accounts;
// revoking the refresh tokens ends the sessions themselves and tells every
// server to close their live connections.
func (s *Service) endSessions(ctx context.Context, id string) error {
	if s.sessions == nil {
		return nil
	}
	if err := s.sessions.RevokeSubject(ctx, id); err != nil {
		return fmt.Errorf("end sessions of deactivated staff %s: %w", id, err)
	}
	return nil
}

// AlertRecipients are who hears that a staff account is under attack: the
// active supervisors of the communities the staff member works in, or the
// active admins when there are none (an admin's own account, or a staff
// member without a supervisor), or, in a company with one admin whose own
// account is attacked, that admin.
func (s *Service) AlertRecipients(ctx context.Context, staffID string) ([]*Staff, error) {
	st, err := s.byID(ctx, staffID)
	if err != nil {
		return nil, err
	}
	find := func(filter bson.D) ([]*Staff, error) {
		cur, err := s.col.Find(ctx, append(filter, bson.E{Key: "active", Value: true}, bson.E{Key: "_id", Value: bson.D{{Key: "$ne", Value: st.ID}}}),
			options.Find().SetLimit(100))
		if err != nil {
			return nil, fmt.Errorf("alert recipients: %w", err)
		}
		var out []*Staff
		if err := cur.All(ctx, &out); err != nil {
			return nil, fmt.Errorf("alert recipients: %w", err)
		}
		return out, nil
	}
	var sups []*Staff
	if len(st.CommunityIDs) > 0 && !slices.Contains(st.Roles, access.Admin) {
		if sups, err = find(bson.D{{Key: "communityIds", Value: bson.D{{Key: "$in", Value: st.CommunityIDs}}}, {Key: "roles", Value: access.Supervisor}}); err != nil {
			return nil, err
		}
	}
	if len(sups) > 0 {
		return sups, nil
	}
	admins, err := find(bson.D{{Key: "companyId", Value: s.companyID}, {Key: "roles", Value: access.Admin}})
	if err != nil || len(admins) > 0 {
		return admins, err
	}
	return []*Staff{st}, nil
}
