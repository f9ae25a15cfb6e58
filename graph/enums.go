package graph

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// storedEnum is a schema enum whose values are stored lower-case: timeline
// actions ("hand_over"), event types ("repair.hand_over"), audit actions.
type storedEnum interface {
	~string
	IsValid() bool
}

// enumOf maps a stored value to its enum value: upper-cased, dots as
// underscores, so the mapping has no table to keep in step with the
// domains; enums_test.go derives every value the domains can store and
// checks that each one maps.
func enumOf[T storedEnum](stored string, other T) T {
	v := T(strings.ToUpper(strings.ReplaceAll(stored, ".", "_")))
	if v.IsValid() {
		return v
	}
	// Unknown is answered as OTHER rather than as an error: a non-null enum
	// that fails to serialise nulls its whole parent (a timeline, a
	// subscription message), and during a rolling upgrade an older process
	// reads steps and events a newer one wrote. Logged once per value, so a
	// forgotten enum value shows up without flooding the log.
	key := fmt.Sprintf("%T/%s", other, stored)
	if _, seen := unknownEnums.LoadOrStore(key, true); !seen {
		slog.Warn("stored value has no schema enum value; answered as OTHER", "enum", fmt.Sprintf("%T", other), "value", stored)
	}
	return other
}

var unknownEnums sync.Map
