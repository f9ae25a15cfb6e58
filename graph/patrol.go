package graph

// The patrol lists' bounds (see listBounds): a route has at most 50
// checkpoints, so a round at most one scan and one miss for each; a
// community a handful of routes (the store caps the list at 100).
func init() {
	for k, v := range map[string]int{
		"Query.patrolRoutes":      10,
		"PatrolRoute.checkpoints": 20,
		"PatrolRound.scans":       20,
		"PatrolRound.misses":      20,
	} {
		listBounds[k] = v
	}
}
