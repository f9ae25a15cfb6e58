// Command qinqing is the Qinqing (亲情) server: the GraphQL API for
// family-style property service.
//
//	go run .              serve (default) on the embedded database
//	go run . seed [--json] create the demo company (idempotent)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // community time zones work in a scratch image too

	"qinqing/internal/app"
	"qinqing/internal/platform/config"
	"qinqing/internal/seed"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "qinqing:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	// seed --json prints its result on stdout, so its logs go to stderr.
	out := os.Stdout
	if cmd == "seed" {
		out = os.Stderr
	}
	log := newLogger(cfg, out)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log)
	case "seed":
		return seedCmd(ctx, cfg, log, args)
	default:
		return fmt.Errorf("unknown command %q (want serve or seed)", cmd)
	}
}

func newLogger(cfg *config.Config, out *os.File) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Production() {
		return slog.New(slog.NewJSONHandler(out, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func serve(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	db, closeDB, err := app.OpenDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeDB()
	a, err := app.New(cfg, app.Deps{DB: db, Log: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return err
	}
	log.Info("qinqing listening", "addr", ln.Addr().String(), "env", cfg.Env,
		"graphql", "/graphql", "explorer", explorerMode(cfg), "introspection", cfg.IntrospectionOn(), "metrics", cfg.MetricsAddr)
	return a.Run(ctx, ln)
}

// explorerMode says what / serves, for the start-up log.
func explorerMode(cfg *config.Config) string {
	switch {
	case !cfg.PlaygroundOn():
		return "off"
	case cfg.ExplorerCDN != "":
		return "GraphiQL from the mirror " + cfg.ExplorerCDN
	default:
		return "embedded (works offline)"
	}
}

func seedCmd(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print staff accounts (with passwords) and owner phones as JSON")
	n := fs.Int("households", 200, "number of demo households")
	fees := fs.Bool("fees", false, "also replay a year of fees (bills, payments, relief, reminders, statements); slow on the embedded database")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, closeDB, err := app.OpenDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeDB()
	// The seed replays a year of fees by setting this clock to past moments.
	clock := seed.NewClock(time.Now)
	svc := app.NewServices(cfg, app.Deps{DB: db, Log: log, Now: clock.Now}, nil)
	start := time.Now()
	res, err := seed.Run(ctx, seed.Deps{DB: db, Communities: svc.Communities, Households: svc.Households, Archive: svc.Archive, Staff: svc.Staff,
		Repairs: svc.Repairs, Complaints: svc.Complaints, Catalog: svc.Catalog, Calls: svc.Calls, Enquiries: svc.Enquiries, Inspections: svc.Inspections,
		Fees: svc.Fees, Payments: svc.Payments, Dunning: svc.Dunning, Finance: svc.Finance, Reviews: svc.Reviews, Patrols: svc.Patrols, Incidents: svc.Incidents,
		Clock: clock, Now: clock.Now, Facilities: svc.Facilities, Committee: svc.Committee, Meetings: svc.Meetings,
		MgmtReports: svc.MgmtReports, Outcomes: svc.Outcomes, Surveys: svc.Surveys, Votes: svc.Votes}, seed.Options{Households: *n, Fees: *fees})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	log.Info("demo data ready", "took", time.Since(start).Round(time.Millisecond).String(), "counts", res.Counts)
	fmt.Printf("demo data ready: %v\nstaff password for every demo account: see `go run . seed --json`\n", res.Counts)
	return nil
}
