// Command fanbench measures a broadcast to N websocket subscribers: Qinqing
// against a bare gqlgen server, in one run, on one machine, with one client.
//
//	go run ./cmd/fanbench -n 10000
//
// Both servers run in this process, one after the other (alternating when
// -runs is above 1); the client runs in a child process, so the CPU and
// memory figures are the server's. Qinqing runs on the embedded database
// (a child process too) unless MONGODB_URI is set. Every subscriber holds a
// staff token (Qinqing: -staff supervisors, each signed in once, their
// sessions shared round-robin by the sockets) and subscribes to
// householdUpdated of one household; one event is then published and the
// time until each subscriber hears it is measured.
//
// Reported per server: connect time (N sockets opened, initialised and
// acknowledged by -concurrency dialers), memory per connection (heap and
// stacks after GC, with every subscription live, over N), server CPU per
// broadcast (user+system, from publishing until the last subscriber heard
// it), broadcast latency p50/p99 (publish to receipt), and for Qinqing the
// database commands during a broadcast, by command and collection.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"time"
)

type options struct {
	n, concurrency, staff, rounds, runs int
	only                                string
	profileConnect, profileBroadcast    string
}

func main() {
	if dir := os.Getenv("FANBENCH_DB"); dir != "" {
		if err := runDatabase(dir); err != nil {
			fmt.Fprintln(os.Stderr, "fanbench database:", err)
			os.Exit(1)
		}
		return
	}
	if os.Getenv("FANBENCH_CLIENT") != "" {
		if err := runClient(); err != nil {
			fmt.Fprintln(os.Stderr, "fanbench client:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.IntVar(&o.n, "n", 10000, "websocket subscribers")
	flag.IntVar(&o.concurrency, "concurrency", 64, "sockets the client opens at once")
	flag.IntVar(&o.staff, "staff", 100, "Qinqing staff accounts whose sessions the sockets share")
	flag.IntVar(&o.rounds, "rounds", 5, "broadcasts measured per run")
	flag.IntVar(&o.runs, "runs", 2, "runs per server, alternating bare and Qinqing")
	flag.StringVar(&o.only, "only", "", "run only this server (bare or qinqing)")
	flag.StringVar(&o.profileConnect, "cpuprofile-connect", "", "write the server's CPU profile while sockets connect to `file`.<server>.pprof")
	flag.StringVar(&o.profileBroadcast, "cpuprofile-broadcast", "", "write the server's CPU profile during the measured broadcasts to `file`.<server>.pprof")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "fanbench:", err)
		os.Exit(1)
	}
}

// target is a server under measurement.
type target interface {
	name() string
	url() string
	tokens() []string
	variables() map[string]any
	fire() error
	// commands reports the database commands so far, by "command collection".
	commands() map[string]int64
	// dbCPU is the database process's CPU time so far (0 if none).
	dbCPU() time.Duration
	close()
}

const subscription = `subscription($id:ID!){ householdUpdated(id:$id){ householdId type at household { id unit room label } } }`

func run(o options) error {
	fmt.Printf("fanbench: %d subscribers, %d rounds per run, %d runs, GOMAXPROCS %d, %s\n",
		o.n, o.rounds, o.runs, runtime.GOMAXPROCS(0), time.Now().Format(time.RFC3339))
	var targets []target
	if o.only == "" || o.only == "bare" {
		b, err := startBare()
		if err != nil {
			return err
		}
		defer b.close()
		targets = append(targets, b)
	}
	if o.only == "" || o.only == "qinqing" {
		q, err := startQinqing(o.staff)
		if err != nil {
			return err
		}
		defer q.close()
		targets = append(targets, q)
	}
	results := map[string][]result{}
	for r := 0; r < o.runs; r++ {
		for _, t := range targets {
			res, err := measure(t, o)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", t.name(), r+1, err)
			}
			res.print(t.name(), r+1)
			results[t.name()] = append(results[t.name()], res)
		}
	}
	summarise(results)
	return nil
}

func summarise(results map[string][]result) {
	med := func(rs []result, f func(result) float64) float64 {
		var v []float64
		for _, r := range rs {
			v = append(v, f(r))
		}
		if len(v) == 0 {
			return 0
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	rows := []struct {
		label string
		f     func(result) float64
	}{
		{"broadcast p50 (ms)", func(r result) float64 { return r.p50 }},
		{"broadcast p99 (ms)", func(r result) float64 { return r.p99 }},
		{"server CPU per broadcast (ms)", func(r result) float64 { return r.cpuMS }},
		{"memory per connection (KiB)", func(r result) float64 { return r.kibPerConn }},
		{"connect time for all (ms)", func(r result) float64 { return r.connectMS }},
		{"goroutines per connection", func(r result) float64 { return r.goroutines }},
		{"database CPU per broadcast (ms)", func(r result) float64 { return r.dbCPUMS }},
		{"DB commands per broadcast", func(r result) float64 { return r.cmds }},
		{"  of which outside the spine's tailing", func(r result) float64 { return r.cmdsOther }},
	}
	fmt.Printf("\n| figure (median of runs) | qinqing | bare | ratio |\n|---|---:|---:|---:|\n")
	for _, row := range rows {
		q, b := med(results["qinqing"], row.f), med(results["bare"], row.f)
		ratio := "–"
		if b > 0 && q > 0 {
			ratio = fmt.Sprintf("%.2f×", q/b)
		}
		fmt.Printf("| %s | %.1f | %.1f | %s |\n", row.label, q, b, ratio)
	}
}
