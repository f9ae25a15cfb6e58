package graph

import (
	"context"
	"reflect"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

type batcherKey struct{}

func withBatcher(ctx context.Context, b *batcher) context.Context {
	return context.WithValue(ctx, batcherKey{}, b)
}

// countField is the field middleware that keeps the response's batcher
// count: gqlgen calls it for every field it resolves (all but __typename),
// on the field's goroutine, and marshals the field's children only after
// it returns, so the children are announced before any of them can start.
func countField(ctx context.Context, next graphql.Resolver) (any, error) {
	b, _ := ctx.Value(batcherKey{}).(*batcher)
	if b == nil || b.timed.Load() {
		return next(ctx)
	}
	fc := graphql.GetFieldContext(ctx)
	var f *fieldCtx
	if fc.IsResolver || fc.IsMethod { // only these run our code, and may Load
		f = &fieldCtx{Context: ctx, b: b}
		ctx = f
	}
	finished := false
	defer func() {
		if !finished { // a panic: gqlgen recovers it; the count must go on
			b.finish(f, 0)
		}
	}()
	res, err := next(ctx)
	children := 0
	if err == nil && len(fc.Field.Selections) > 0 {
		var ok bool
		if children, ok = b.children(ctx, fc, res); !ok {
			b.degrade()
		}
	}
	finished = true
	b.finish(f, children)
	return res, err
}

// announceRoot counts a mutation's root field before it starts: gqlgen
// runs them one after the other, so they cannot be expected at once.
func announceRoot(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if b, _ := ctx.Value(batcherKey{}).(*batcher); b != nil && b.serial && !b.timed.Load() {
		b.expect(1)
	}
	return next(ctx)
}

// children is how many fields gqlgen will resolve under res: one per
// selected field (collected as gqlgen collects them: fragments, @skip,
// @include) per object in res. ok is false for what the count cannot
// follow (an interface or union: which fields apply depends on each
// object's type).
func (b *batcher) children(ctx context.Context, fc *graphql.FieldContext, res any) (int, bool) {
	if fc.Field.Definition == nil {
		return 0, false
	}
	sat := b.info.satisfies(fc.Field.Definition.Type.Name())
	if sat == nil {
		return 0, false
	}
	n := objects(reflect.ValueOf(res))
	if n == 0 {
		return 0, true
	}
	return n * countFields(graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, sat)), true
}

// countFields leaves out __typename, which gqlgen answers without a field
// call.
func countFields(fields []graphql.CollectedField) int {
	n := 0
	for _, f := range fields {
		if f.Name != "__typename" {
			n++
		}
	}
	return n
}

// objects counts the objects gqlgen marshals from a resolver's value: nil
// is none, a list is its items (lists of lists too), anything else one.
func objects(v reflect.Value) int {
	switch v.Kind() {
	case reflect.Invalid:
		return 0
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return 0
		}
		return objects(v.Elem())
	case reflect.Slice, reflect.Array:
		n := 0
		for i := range v.Len() {
			n += objects(v.Index(i))
		}
		return n
	}
	return 1
}

// schemaInfo is what the count needs from the schema: for each object
// type, the type names a fragment on it may name (gqlgen's implementors).
type schemaInfo struct {
	query string
	sat   map[string][]string
}

func newSchemaInfo(s *ast.Schema) *schemaInfo {
	info := &schemaInfo{sat: map[string][]string{}}
	if s.Query != nil {
		info.query = s.Query.Name
	}
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

// satisfies is nil for anything but an object type.
func (i *schemaInfo) satisfies(typ string) []string { return i.sat[typ] }
