// Package bare is the fan-out benchmark's baseline: a gqlgen server built
// the way gqlgen's own examples build one, with its stock websocket
// transport and an in-memory broadcast. Whatever Qinqing spends beyond it
// on a broadcast is the price of its access rules, its event spine and its
// limits.
package bare

import (
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// NewHandler serves the bare schema over POST and websockets.
func NewHandler(r *Resolver) http.Handler {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: r}))
	srv.AddTransport(transport.Websocket{KeepAlivePingInterval: 15 * time.Second})
	srv.AddTransport(transport.POST{})
	return srv
}
