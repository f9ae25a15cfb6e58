package graph

import (
	"reflect"
	"strings"
	"unsafe"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// schemaInfo is what the batcher needs to know of how gqlgen runs the
// fields of an object: which type names a fragment on it may name (its
// implementors), and which of its fields gqlgen starts on goroutines after
// the others (resolver fields) rather than one after the other in order.
type schemaInfo struct {
	sat        map[string][]string
	concurrent map[string]map[string]bool // object type → lower-cased field name
}

func newSchemaInfo(s *ast.Schema) *schemaInfo {
	info := &schemaInfo{sat: map[string][]string{}, concurrent: resolverFields()}
	for name, def := range s.Types {
		if def.Kind != ast.Object {
			continue
		}
		sat := []string{name}
		for _, d := range s.GetImplements(def) {
			sat = append(sat, d.Name)
		}
		info.sat[name] = sat
	}
	return info
}

// resolverFields reads the fields that have resolvers off the generated
// resolver interfaces: ResolverRoot has a method per object type (named
// like it) returning an interface with a method per resolver field (named
// like the field, in Go case). gqlgen runs exactly those concurrently
// (batch_schema_test.go checks this against the generated executor).
func resolverFields() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	root := reflect.TypeFor[ResolverRoot]()
	for i := range root.NumMethod() {
		m := root.Method(i)
		if m.Type.NumOut() != 1 || m.Type.Out(0).Kind() != reflect.Interface {
			continue
		}
		fields := map[string]bool{}
		r := m.Type.Out(0)
		for j := range r.NumMethod() {
			fields[strings.ToLower(r.Method(j).Name)] = true
		}
		out[m.Name] = fields
	}
	return out
}

// satisfies is nil for anything but an object type.
func (i *schemaInfo) satisfies(typ string) []string { return i.sat[typ] }

func (i *schemaInfo) isConcurrent(typ, field string) bool {
	return i.concurrent[typ][strings.ToLower(strings.ReplaceAll(field, "_", ""))]
}

// plan is how gqlgen marshals one object for one selection: it calls the
// fields that are not concurrent one after the other, in order, each with
// its whole subtree, and then starts the concurrent ones together. So a
// field after one that has a selection of its own (an inline subtree, like
// a connection's edges) cannot start before that subtree is complete.
type plan struct {
	n     int // field calls per object (every field but __typename)
	first int // those that can start at once: up to and including the first inline subtree
	// after maps an inline subtree field to the number of fields that can
	// start once it is complete (up to and including the next one).
	after map[*ast.Field]int
}

type planKey struct {
	sel *ast.Selection
	typ string
}

func (i *schemaInfo) plan(oc *graphql.OperationContext, sel ast.SelectionSet, typ string) *plan {
	p := &plan{after: map[*ast.Field]int{}}
	var inline []graphql.CollectedField
	concurrent := 0
	for _, f := range graphql.CollectFields(oc, sel, i.satisfies(typ)) {
		switch {
		case f.Name == "__typename":
			continue
		case i.isConcurrent(typ, f.Name):
			concurrent++
		default:
			inline = append(inline, f)
		}
		p.n++
	}
	// Segments of inline fields, each ending with a subtree; the
	// concurrent fields start with the last segment.
	var last *ast.Field
	size := 0
	for _, f := range inline {
		size++
		if len(f.Selections) > 0 {
			p.close(last, size)
			last, size = f.Field, 0
		}
	}
	p.close(last, size+concurrent)
	return p
}

func (p *plan) close(subtree *ast.Field, size int) {
	if subtree == nil {
		p.first = size
	} else {
		p.after[subtree] = size
	}
}

func keyOf(sel ast.SelectionSet, typ string) planKey {
	return planKey{unsafe.SliceData(sel), typ}
}
