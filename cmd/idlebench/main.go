// Command idlebench measures what an idle server costs: it starts a server
// on a fresh embedded database, and -attached more server processes on the
// same database (MONGODB_URI pointing at the first one's embedded FerretDB),
// sends them nothing, and reports each process's CPU (user+system from
// /proc/<pid>/stat, which includes the embedded database running inside the
// first) over a window.
//
//	go build -o /tmp/qinqing . && go run ./cmd/idlebench -bin /tmp/qinqing
//	go run ./cmd/idlebench -bin /tmp/qinqing -attached 0 -window 30s
//	go run ./cmd/idlebench -bin /tmp/qinqing -seed 200   # on the demo data
//
// Linux only (it reads /proc). The figures are a percentage of one core.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "", "server binary (build it with: go build -o /tmp/qinqing .)")
	attached := flag.Int("attached", 2, "server processes attached to the first one's embedded database")
	window := flag.Duration("window", 60*time.Second, "measurement window")
	settle := flag.Duration("settle", 15*time.Second, "wait after every server is ready, before measuring (start-up work)")
	keep := flag.Bool("keep", false, "keep the data directory and logs")
	seed := flag.Int("seed", 0, "seed this many demo households first (0: an empty database)")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "idlebench: -bin is required")
		os.Exit(2)
	}
	if err := run(*bin, *attached, *seed, *window, *settle, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "idlebench:", err)
		os.Exit(1)
	}
}

type proc struct {
	role string
	cmd  *exec.Cmd
	http string
}

func run(bin string, attached, seed int, window, settle time.Duration, keep bool) error {
	dir, err := os.MkdirTemp("", "idlebench-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Println("data and logs in", dir)
	}
	dbAddr, err := freeAddr()
	if err != nil {
		return err
	}
	if seed > 0 {
		cmd := exec.Command(bin, "seed", "-households", strconv.Itoa(seed))
		cmd.Env = append(cleanEnv(), "DATA_DIR="+filepath.Join(dir, "data"), "APP_ENV=development", "LOG_LEVEL=warn")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("seed: %w\n%s", err, out)
		}
	}
	var procs []*proc
	defer func() {
		for _, p := range procs {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range procs {
			_ = p.cmd.Wait()
		}
	}()
	start := func(role string, env ...string) (*proc, error) {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		log, err := os.Create(filepath.Join(dir, role+".log"))
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(bin)
		cmd.Env = append(cleanEnv(), append(env, "DATA_DIR="+filepath.Join(dir, "data"), "HTTP_ADDR="+addr,
			"METRICS_ADDR=127.0.0.1:0", "APP_ENV=development", "LOG_LEVEL=warn")...)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", role, err)
		}
		p := &proc{role: role, cmd: cmd, http: addr}
		procs = append(procs, p)
		return p, waitReady(p, 2*time.Minute)
	}
	if _, err := start("embedded", "EMBEDDED_DB_ADDR="+dbAddr); err != nil {
		return err
	}
	for i := 1; i <= attached; i++ {
		if _, err := start(fmt.Sprintf("attached-%d", i), "MONGODB_URI=mongodb://"+dbAddr+"/"); err != nil {
			return err
		}
	}
	time.Sleep(settle)
	before := make([]float64, len(procs))
	for i, p := range procs {
		if before[i], err = cpuSeconds(p.cmd.Process.Pid); err != nil {
			return err
		}
	}
	t0 := time.Now()
	time.Sleep(window)
	elapsed := time.Since(t0).Seconds()
	fmt.Printf("idle CPU over %s, %d attached process(es), %d seeded households, %% of one core\n", window, attached, seed)
	total := 0.0
	for i, p := range procs {
		after, err := cpuSeconds(p.cmd.Process.Pid)
		if err != nil {
			return err
		}
		pct := 100 * (after - before[i]) / elapsed
		total += pct
		fmt.Printf("  %-12s pid %-7d %6.2f%%\n", p.role, p.cmd.Process.Pid, pct)
	}
	fmt.Printf("  %-12s %13.2f%%\n", "total", total)
	return nil
}

// cleanEnv is this environment without the settings the bench decides.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "MONGODB_URI", "DATA_DIR", "HTTP_ADDR", "METRICS_ADDR", "EMBEDDED_DB_ADDR", "APP_ENV", "LOG_LEVEL":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitReady(p *proc, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if p.cmd.ProcessState != nil {
			return fmt.Errorf("%s exited", p.role)
		}
		resp, err := http.Get("http://" + p.http + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s", p.role, limit)
}

// cpuSeconds is the user+system time of pid (all its threads) so far.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields count from after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unreadable /proc stat times")
	}
	const userHZ = 100 // USER_HZ: fixed at 100 on Linux whatever the kernel's HZ
	return (utime + stime) / userHZ, nil
}
