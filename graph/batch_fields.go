package graph

import (
	"context"
	"reflect"

	"github.com/99designs/gqlgen/graphql"
)

type batcherKey struct{}

func withBatcher(ctx context.Context, b *batcher) context.Context {
	return context.WithValue(ctx, batcherKey{}, b)
}

// countField is the field middleware that keeps the batcher's count: gqlgen
// calls it for every field it resolves (all but __typename), on the field's
// goroutine, with the context the field's children will get, and marshals
// the children only after it returns, so they are counted before any of
// them can start.
func countField(ctx context.Context, next graphql.Resolver) (any, error) {
	parent, _ := ctx.Value(fieldKey{}).(*fieldCtx)
	var b *batcher
	if parent != nil {
		b = parent.b
	} else {
		b, _ = ctx.Value(batcherKey{}).(*batcher)
	}
	if b == nil || b.timed.Load() {
		return next(ctx)
	}
	fc := graphql.GetFieldContext(ctx)
	subtree := len(fc.Field.Selections) > 0
	var f *fieldCtx
	// A root field is a branch of its own, counting itself. Fields that
	// run our code may Load; fields with a subtree count their children.
	if parent == nil || subtree || fc.IsResolver || fc.IsMethod {
		f = &fieldCtx{Context: ctx, b: b, parent: parent}
		if parent == nil {
			f.br = &branch{outstanding: 1}
		} else {
			f.br = parent.br
			f.after = parent.plan.after[fc.Field.Field]
		}
		ctx = f
	}
	finished := false
	defer func() {
		if !finished { // a panic: gqlgen recovers it; the count must go on
			b.finish(parent, f, nil, 0)
		}
	}()
	res, err := next(ctx)
	var p *plan
	objects := 0
	if err == nil && subtree {
		if p, objects = b.children(ctx, fc, res); p == nil && objects > 0 {
			b.degrade()
		}
	}
	finished = true
	b.finish(parent, f, p, objects)
	return res, err
}

// children is the plan gqlgen follows for each object in res, and how many
// objects there are. The plan is nil for what the count cannot follow: an
// interface or union, where the fields that apply depend on each object's
// type.
func (b *batcher) children(ctx context.Context, fc *graphql.FieldContext, res any) (*plan, int) {
	n := objects(reflect.ValueOf(res))
	if n == 0 || fc.Field.Definition == nil {
		return nil, n
	}
	typ := fc.Field.Definition.Type.Name()
	if b.info.satisfies(typ) == nil {
		return nil, n
	}
	k := keyOf(fc.Field.Selections, typ)
	b.mu.Lock()
	p := b.plans[k]
	b.mu.Unlock()
	if p == nil {
		p = b.info.plan(graphql.GetOperationContext(ctx), fc.Field.Selections, typ)
		b.mu.Lock()
		b.plans[k] = p
		b.mu.Unlock()
	}
	return p, n
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
