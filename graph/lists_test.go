package graph

import (
	"regexp"
	"testing"
)

// boundStated is how a root list's description states its bound: a number
// ("At most 500"), a construction ("Bounded: ..."), or one entry per value
// of an enum.
var boundStated = regexp.MustCompile(`[Aa]t most \d+|Bounded|[Oo]ne entry per `)

// TestEveryRootListIsPagedOrBounded: a list on Query is a connection or says
// in its description how long it can get, so a front end knows whether to
// page it. The number is enforced by a limit in the list's store.
func TestEveryRootListIsPagedOrBounded(t *testing.T) {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	for _, f := range schema.Query.Fields {
		if f.Type.Elem == nil {
			continue
		}
		if !boundStated.MatchString(f.Description) {
			t.Errorf("Query.%s is an unpaged list without a stated bound: %q", f.Name, f.Description)
		}
	}
}
