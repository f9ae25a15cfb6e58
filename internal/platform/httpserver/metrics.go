// Package httpserver holds HTTP plumbing shared by the API: Prometheus
// metrics, health endpoints and graceful shutdown.
package httpserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the server's Prometheus collectors, on a registry of its own so
// two servers in one test binary do not collide.
type Metrics struct {
	Registry   *prometheus.Registry
	Operations *prometheus.CounterVec   // by operation name and type
	Latency    *prometheus.HistogramVec // by operation name and type
	Errors     *prometheus.CounterVec   // by error code
	Websockets prometheus.Gauge
}

// NewMetrics registers the collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qinqing_graphql_operations_total", Help: "GraphQL operations by name and type.",
		}, []string{"operation", "type"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "qinqing_graphql_operation_seconds", Help: "GraphQL operation latency by name and type.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation", "type"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qinqing_graphql_errors_total", Help: "GraphQL errors by extensions.code.",
		}, []string{"code"}),
		Websockets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "qinqing_websocket_connections", Help: "Open GraphQL websocket connections.",
		}),
	}
	m.Registry.MustRegister(m.Operations, m.Latency, m.Errors, m.Websockets,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Health serves /healthz (the process answers) and /readyz (the database
// answers within two seconds).
func Health(mux *http.ServeMux, ping func(context.Context) error) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		if err := ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"database unavailable"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ready"}`))
	})
}

// Serve runs srv on ln until ctx is cancelled, then stops accepting, lets
// in-flight requests finish within wait, and runs onShutdown (which closes
// websockets: http.Server.Shutdown does not wait for hijacked connections).
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, wait time.Duration, onShutdown func(), log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests", "timeout", wait.String())
	sctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if onShutdown != nil {
		srv.RegisterOnShutdown(onShutdown)
	}
	err := srv.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) {
		return e
	}
	return err
}
