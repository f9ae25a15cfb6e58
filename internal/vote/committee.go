package vote

// CommitteeRole is a seat on the owners' committee.
type CommitteeRole string

// Roles that lead the committee and may open votes and approve proposed ones.
const (
	Chair     CommitteeRole = "CHAIR"
	ViceChair CommitteeRole = "VICE_CHAIR"
)

func leads(r CommitteeRole) bool { return r == Chair || r == ViceChair }
