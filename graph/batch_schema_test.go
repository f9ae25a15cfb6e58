package graph

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestConcurrentFieldsMatchTheExecutor: the batcher's count relies on
// knowing which fields of an object gqlgen starts together on goroutines
// (after the others, which run one by one). It reads them off the resolver
// interfaces; this reads them off the generated executor, where each such
// field is wrapped for out.Concurrently, and the two must agree for every
// field of every object (the roots aside: each root field is a branch of
// its own).
func TestConcurrentFieldsMatchTheExecutor(t *testing.T) {
	info := newSchemaInfo(NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema())
	files, err := filepath.Glob("*.generated.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no generated files: %v", err)
	}
	object := regexp.MustCompile(`(?m)^func \(ec \*executionContext\) _(\w+)\(ctx context\.Context, sel ast\.SelectionSet, obj `)
	field := regexp.MustCompile(`(?m)^\t\tcase "(\w+)":\n(\t\t\tfield := field\n)?`)
	fields := 0
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range object.FindAllSubmatchIndex(src, -1) {
			typ := string(src[m[2]:m[3]])
			body := src[m[1]:]
			if end := regexp.MustCompile(`(?m)^}`).FindIndex(body); end != nil {
				body = body[:end[0]]
			}
			for _, f := range field.FindAllSubmatch(body, -1) {
				name, concurrent := string(f[1]), len(f[2]) > 0
				if name == "__typename" {
					continue
				}
				fields++
				if got := info.isConcurrent(typ, name); got != concurrent {
					t.Errorf("%s.%s: the batcher takes it as concurrent=%v, the executor runs it concurrent=%v", typ, name, got, concurrent)
				}
			}
		}
	}
	if fields < 500 {
		t.Fatalf("found only %d fields in the generated executor: the pattern is out of date", fields)
	}
}

// TestPlanFollowsInlineSubtrees: the fields after an inline field with a
// subtree start only when that subtree is complete; resolver fields start
// with the last run.
func TestPlanFollowsInlineSubtrees(t *testing.T) {
	info := &schemaInfo{sat: map[string][]string{"T": {"T"}}, concurrent: map[string]map[string]bool{"T": {"r1": true, "r2": true}}}
	leaf := func(n string) *ast.Field { return &ast.Field{Name: n, Alias: n} }
	sub := func(n string) *ast.Field {
		f := leaf(n)
		f.SelectionSet = ast.SelectionSet{leaf("x")}
		return f
	}
	a, b, r1, c, d, r2, e := leaf("a"), sub("b"), leaf("r1"), leaf("c"), sub("d"), leaf("r2"), leaf("e")
	p := info.plan(&graphql.OperationContext{}, ast.SelectionSet{a, b, r1, c, d, r2, e, leaf("__typename")}, "T")
	if p.n != 7 || p.first != 2 || p.after[b] != 2 || p.after[d] != 1+2 {
		t.Fatalf("plan %+v: want 7 calls, 2 at once (a b), 2 after b (c d), 3 after d (e r1 r2)", p)
	}
}
