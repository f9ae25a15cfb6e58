package graph

import (
	"sort"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// A list field without a declared bound would be estimated at the page
// maximum and could hide an explosion behind it or refuse a real screen;
// every list of objects must say how long it gets, and every bound must
// name a real list field.
func TestEveryListFieldHasABound(t *testing.T) {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	seen := map[string]bool{}
	var missing []string
	for name, def := range schema.Types {
		if strings.HasPrefix(name, "__") || (def.Kind != ast.Object && def.Kind != ast.Interface) {
			continue
		}
		for _, f := range def.Fields {
			if f.Type.Elem == nil || strings.HasPrefix(f.Name, "__") {
				continue
			}
			elem := schema.Types[f.Type.Name()]
			if elem == nil || (elem.Kind != ast.Object && elem.Kind != ast.Interface && elem.Kind != ast.Union) {
				continue // a list of scalars or enums is a leaf
			}
			key := name + "." + f.Name
			seen[key] = true
			if strings.HasSuffix(name, "Connection") {
				continue // counted by the connection's first/last
			}
			if b, ok := listBounds[key]; !ok || b <= 0 {
				missing = append(missing, key)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("list fields without a bound in listBounds: %v", missing)
	}
	for key := range listBounds {
		if !seen[key] {
			t.Errorf("listBounds names %s, which is not a list of objects in the schema", key)
		}
	}
}
