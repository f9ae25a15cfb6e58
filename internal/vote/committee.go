package vote

import "qinqing/internal/committee"

// leads: the chair and vice-chairs open votes, approve proposed ones and
// close them; auditing ballots is the chair's alone (Ballots).
func leads(r committee.Role) bool { return r.Leads() }
