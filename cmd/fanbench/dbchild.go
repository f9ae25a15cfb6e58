package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"qinqing/internal/platform/mongo"
)

// The embedded FerretDB runs in the server's process when Qinqing runs
// alone; here it runs in a child so that the CPU and memory measured are
// the API server's, not the database's.

// runDatabase is the child: it serves FERRET_DIR until stdin closes.
func runDatabase(dir string) error {
	e, err := mongo.StartEmbedded(context.Background(), dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	fmt.Println(e.URI)
	_, _ = io.Copy(io.Discard, os.Stdin)
	e.Stop()
	return nil
}

type database struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	uri string
}

func startDatabase(dir string) (*database, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "FANBENCH_DB="+dir)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("embedded database did not start: %w", err)
	}
	return &database{cmd: cmd, in: in, uri: strings.TrimSpace(line)}, nil
}

func (d *database) stop() {
	_ = d.in.Close()
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
	}
}

// cpu is the database process's CPU time so far (Linux /proc).
func (d *database) cpu() time.Duration {
	if d == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", d.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name; utime and stime are the
	// 14th and 15th fields of the whole line, in clock ticks (100 per second).
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * 10 * time.Millisecond
}
