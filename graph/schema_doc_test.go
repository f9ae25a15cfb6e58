package graph

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// TestSchemaDocumentsItself: the schema is the contract three front ends build
// on, so every type, field, argument, input field and enum value says what it is
// in the business's words (issue 11). A new element without a description fails
// here, named by file and line.
func TestSchemaDocumentsItself(t *testing.T) {
	s := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	at := func(p *ast.Position) string {
		if p == nil || p.Src == nil {
			return "?"
		}
		return fmt.Sprintf("%s:%d", strings.TrimPrefix(p.Src.Name, "../"), p.Line)
	}
	missing := func(p *ast.Position, what string) { t.Errorf("%s: %s has no description", at(p), what) }
	for name, d := range s.Types {
		if d.BuiltIn || strings.HasPrefix(name, "__") {
			continue
		}
		if strings.TrimSpace(d.Description) == "" {
			missing(d.Position, "type "+name)
		}
		for _, f := range d.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if strings.TrimSpace(f.Description) == "" {
				missing(f.Position, name+"."+f.Name)
			}
			for _, a := range f.Arguments {
				if strings.TrimSpace(a.Description) == "" {
					missing(a.Position, name+"."+f.Name+"("+a.Name+")")
				}
			}
		}
		for _, v := range d.EnumValues {
			if strings.TrimSpace(v.Description) == "" {
				missing(v.Position, name+"."+v.Name)
			}
		}
	}
}
