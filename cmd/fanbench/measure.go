package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

type result struct {
	connectMS, kibPerConn, goroutines float64
	p50, p99, cpuMS, dbCPUMS          float64 // medians over the rounds
	cmds, cmdsOther                   float64 // per broadcast, medians
	byCommand                         map[string]int64
	heard                             int
}

func (r result) print(name string, run int) {
	fmt.Printf("%-8s run %d: connect %.0f ms, %.1f KiB and %.1f goroutines per connection, broadcast p50 %.1f ms p99 %.1f ms, CPU %.0f ms (database %.0f ms), heard %d, DB commands %.0f (%.0f outside the spine)",
		name, run, r.connectMS, r.kibPerConn, r.goroutines, r.p50, r.p99, r.cpuMS, r.dbCPUMS, r.heard, r.cmds, r.cmdsOther)
	if len(r.byCommand) > 0 {
		fmt.Printf(" %v", r.byCommand)
	}
	fmt.Println()
}

// inUse is what the server holds: live heap and goroutine stacks, after GC.
func inUse() (bytes uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse, runtime.NumGoroutine()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type child struct {
	cmd *exec.Cmd
	in  *bufio.Writer
	w   interface{ Close() error }
	out *bufio.Scanner
}

func (c *child) say(line string) error {
	if _, err := c.in.WriteString(line + "\n"); err != nil {
		return err
	}
	return c.in.Flush()
}

func (c *child) hear() (clientReport, error) {
	var r clientReport
	if !c.out.Scan() {
		return r, fmt.Errorf("client ended: %v", c.out.Err())
	}
	return r, json.Unmarshal(c.out.Bytes(), &r)
}

func measure(t target, o options) (result, error) {
	var res result
	mem0, g0 := inUse()
	vars, _ := json.Marshal(t.variables())
	args, _ := json.Marshal(clientArgs{URL: t.url(), N: o.n, Concurrency: o.concurrency, Tokens: t.tokens(), Query: subscription, Variables: vars})
	self, err := os.Executable()
	if err != nil {
		return res, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "FANBENCH_CLIENT="+string(args))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return res, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	stopProfile := profile(o.profileConnect, t.name())
	if err := cmd.Start(); err != nil {
		return res, err
	}
	c := &child{cmd: cmd, in: bufio.NewWriter(stdin), w: stdin, out: bufio.NewScanner(stdout)}
	defer func() {
		_ = c.w.Close()
		_ = cmd.Wait()
		// Let the server notice the closed sockets before the next run.
		for i := 0; i < 100; i++ {
			if _, g := inUse(); g <= g0+10 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	rep, err := c.hear()
	if err != nil {
		return res, err
	}
	if rep.Connected != o.n {
		return res, fmt.Errorf("only %d of %d connected: %s", rep.Connected, o.n, rep.Err)
	}
	res.connectMS = rep.ConnectMS
	stopProfile()

	// Subscriptions start asynchronously: publish until every socket hears.
	var dbCPU time.Duration
	round := func(timeout time.Duration) (clientReport, time.Duration, map[string]int64, error) {
		if err := c.say("arm"); err != nil {
			return clientReport{}, 0, nil, err
		}
		if r, err := c.hear(); err != nil || r.Phase != "armed" {
			return r, 0, nil, fmt.Errorf("arming the client: %v %+v", err, r)
		}
		cmds0, cpu0, db0 := t.commands(), cpuTime(), t.dbCPU()
		defer func() { dbCPU = t.dbCPU() - db0 }()
		t0 := time.Now()
		if err := t.fire(); err != nil {
			return clientReport{}, 0, nil, err
		}
		if err := c.say(fmt.Sprintf("wait %d %s", t0.UnixNano(), timeout)); err != nil {
			return clientReport{}, 0, nil, err
		}
		r, err := c.hear()
		cpu := cpuTime() - cpu0
		cmds := t.commands()
		for k, v := range cmds0 {
			if cmds[k] -= v; cmds[k] == 0 {
				delete(cmds, k)
			}
		}
		return r, cpu, cmds, err
	}
	for try := 0; ; try++ {
		r, _, _, err := round(5 * time.Second)
		if err != nil {
			return res, err
		}
		if r.Got == o.n {
			break
		}
		if try == 20 {
			return res, fmt.Errorf("only %d of %d subscribers hear events", r.Got, o.n)
		}
	}
	mem1, g1 := inUse()
	res.kibPerConn = float64(int64(mem1)-int64(mem0)) / 1024 / float64(o.n)
	res.goroutines = float64(g1-g0) / float64(o.n)

	var p50, p99, cpu, dbc, cmds, other []float64
	res.byCommand = map[string]int64{}
	stopProfile = profile(o.profileBroadcast, t.name())
	defer stopProfile()
	heapProfile(o.profileBroadcast, t.name(), "before")
	defer heapProfile(o.profileBroadcast, t.name(), "after")
	for i := 0; i < o.rounds; i++ {
		r, c, byCmd, err := round(60 * time.Second)
		if err != nil {
			return res, err
		}
		res.heard = r.Got
		p50, p99, cpu = append(p50, r.P50MS), append(p99, r.P99MS), append(cpu, float64(c.Microseconds())/1000)
		dbc = append(dbc, float64(dbCPU.Microseconds())/1000)
		var all, out int64
		for k, v := range byCmd {
			all += v
			if !strings.HasSuffix(k, " events") {
				out += v
			}
			res.byCommand[k] += v
		}
		cmds, other = append(cmds, float64(all)), append(other, float64(out))
	}
	for _, k := range slices.Collect(maps.Keys(res.byCommand)) {
		res.byCommand[k] /= int64(o.rounds)
		if res.byCommand[k] == 0 {
			delete(res.byCommand, k)
		}
	}
	res.p50, res.p99, res.cpuMS, res.cmds, res.cmdsOther = median(p50), median(p99), median(cpu), median(cmds), median(other)
	res.dbCPUMS = median(dbc)
	return res, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

// profile writes a CPU profile of this process (the server) to
// file.<server>.pprof until the returned func is called; "" profiles nothing.
func profile(file, server string) (stop func()) {
	if file == "" {
		return func() {}
	}
	f, err := os.Create(file + "." + server + ".pprof")
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		f.Close()
		return func() {}
	}
	var once sync.Once
	return func() { once.Do(func() { pprof.StopCPUProfile(); f.Close() }) }
}

// heapProfile writes the allocation profile so far to
// file.<server>.<when>.heap; compare two with pprof -base.
func heapProfile(file, server, when string) {
	if file == "" {
		return
	}
	f, err := os.Create(file + "." + server + "." + when + ".heap")
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return
	}
	defer f.Close()
	runtime.GC() // the profile is as of the last collection
	_ = pprof.Lookup("allocs").WriteTo(f, 0)
}
