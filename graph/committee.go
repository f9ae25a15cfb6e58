package graph

// A committee has a handful of members; its appointment list is bounded by
// committee.MaxSeats and read in one query.
func init() {
	for k, v := range map[string]int{
		"OwnersCommittee.members":      15,
		"OwnersCommittee.appointments": 30,
	} {
		listBounds[k] = v
	}
}
