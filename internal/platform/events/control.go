package events

// Control events tell every server process that an access decision it keeps
// (an open websocket's session, a caller's roles and scopes) is no longer
// true. Publishers are the services that change the fact; consumers are the
// connection registries that keep decisions with open connections.
const (
	// TypeSessionRevoked: one session family ended (logout, refresh-token
	// reuse). SubjectID is the family id; ActorID the staff or person id.
	TypeSessionRevoked = "auth.session_revoked"
	// TypeSubjectRevoked: every session of one staff member or person ended
	// (e.g. a staff member deactivated). SubjectID is that staff or person id.
	TypeSubjectRevoked = "auth.subject_revoked"
	// TypeAccessChanged: a staff member's roles, communities or scopes, or a
	// person's memberships, changed. SubjectID is that staff or person id.
	TypeAccessChanged = "access.changed"
)
