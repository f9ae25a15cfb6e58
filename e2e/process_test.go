package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"qinqing/internal/app"
	"qinqing/internal/platform/mongo"
)

// Environment of a server child: the database it serves.
const (
	childURI = "QINQING_SERVER_CHILD_URI"
	childDB  = "QINQING_SERVER_CHILD_DB"
)

// startServerProcess starts the server in a process of its own on db's
// database and returns it as an env with only URL (and the parent's DB) set.
// Servers started with startServer share this process's ObjectID counter,
// so their events' ids are always in order; only a second process makes ids
// that disagree with the order events were published in, as in production.
func startServerProcess(t *testing.T, db *mongo.DB) *env {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childURI+"="+mongo.TestURI(t), childDB+"="+db.Name())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		t.Fatalf("server process said %q: %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return &env{t: t, URL: strings.TrimSpace(line), DB: db, cfg: testConfig()}
}

// serveServerChild runs one server as startServer would, prints its URL and
// serves until its parent closes stdin.
func serveServerChild(uri, name string) {
	fail := func(err error) {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := mongo.Connect(ctx, uri, name, mongo.Options{})
	if err != nil {
		fail(err)
	}
	cfg := testConfig()
	cfg.SMSBaseURL = "http://127.0.0.1:1"
	// The parent's clock stands at testEpoch: tokens it issued are valid here.
	a, err := app.New(cfg, app.Deps{DB: db, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return testEpoch }})
	if err != nil {
		fail(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	select {
	case <-a.Ready():
	case err := <-done:
		fail(fmt.Errorf("server ended: %v", err))
	case <-time.After(30 * time.Second):
		fail(fmt.Errorf("event spine did not start"))
	}
	fmt.Println("http://" + ln.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin)
	cancel()
	<-done
	_ = db.Close(context.Background())
}
