package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// The client runs in a child process so that its sockets, goroutines and
// CPU are not counted as the server's. It speaks to the parent in lines:
// the parent writes "arm" (the client forgets what it heard and answers
// "armed"), publishes one event at time t0, then writes "wait <t0 in unix
// nanos> <timeout>"; the client answers with the latencies once every
// subscriber has heard the event or the timeout passed.

type clientArgs struct {
	URL         string          `json:"url"`
	N           int             `json:"n"`
	Concurrency int             `json:"concurrency"`
	Tokens      []string        `json:"tokens"`
	Query       string          `json:"query"`
	Variables   json.RawMessage `json:"variables"`
}

type clientReport struct {
	Phase     string  `json:"phase"`
	Connected int     `json:"connected"`
	ConnectMS float64 `json:"connectMs,omitempty"`
	Got       int     `json:"got"`
	P50MS     float64 `json:"p50Ms,omitempty"`
	P99MS     float64 `json:"p99Ms,omitempty"`
	MaxMS     float64 `json:"maxMs,omitempty"`
	Err       string  `json:"err,omitempty"`
}

type subscriber struct {
	ws   *websocket.Conn
	seen atomic.Int64 // unix nanos of the first "next" since the last fire
}

func runClient() error {
	var a clientArgs
	if err := json.Unmarshal([]byte(os.Getenv("FANBENCH_CLIENT")), &a); err != nil {
		return fmt.Errorf("client args: %w", err)
	}
	out := json.NewEncoder(os.Stdout)
	subs := make([]*subscriber, a.N)
	var round atomic.Int64 // nanos of the current fire; 0 between rounds
	var heard atomic.Int64
	ctx := context.Background()

	start := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Int64
	var firstErr atomic.Value
	next := atomic.Int64{}
	for w := 0; w < a.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= a.N {
					return
				}
				s, err := dial(ctx, a, a.Tokens[i%len(a.Tokens)])
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				subs[i] = s
				go s.listen(&round, &heard)
			}
		}()
	}
	wg.Wait()
	rep := clientReport{Phase: "connected", Connected: a.N - int(failed.Load()), ConnectMS: ms(time.Since(start))}
	if e, ok := firstErr.Load().(string); ok {
		rep.Err = e
	}
	if err := out.Encode(rep); err != nil {
		return err
	}

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch {
		case len(f) == 1 && f[0] == "arm":
			for _, s := range subs {
				if s != nil {
					s.seen.Store(0)
				}
			}
			heard.Store(0)
			round.Store(1)
			if err := out.Encode(clientReport{Phase: "armed"}); err != nil {
				return err
			}
		case len(f) == 3 && f[0] == "wait":
			t0, _ := strconv.ParseInt(f[1], 10, 64)
			timeout, _ := time.ParseDuration(f[2])
			deadline := time.Now().Add(timeout)
			want := int64(rep.Connected)
			for heard.Load() < want && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			round.Store(0)
			var lat []float64
			for _, s := range subs {
				if s == nil {
					continue
				}
				if at := s.seen.Load(); at > 0 {
					lat = append(lat, float64(at-t0)/1e6)
				}
			}
			r := clientReport{Phase: "round", Connected: rep.Connected, Got: len(lat)}
			if len(lat) > 0 {
				slices.Sort(lat)
				r.P50MS, r.P99MS, r.MaxMS = pct(lat, 0.50), pct(lat, 0.99), lat[len(lat)-1]
			}
			if err := out.Encode(r); err != nil {
				return err
			}
		}
	}
	for _, s := range subs {
		if s != nil {
			_ = s.ws.CloseNow()
		}
	}
	return nil
}

func dial(ctx context.Context, a clientArgs, token string) (*subscriber, error) {
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(cctx, a.URL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	send := func(v any) error {
		b, _ := json.Marshal(v)
		return ws.Write(cctx, websocket.MessageText, b)
	}
	if err := send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}}); err != nil {
		return nil, err
	}
	for {
		_, b, err := ws.Read(cctx)
		if err != nil {
			return nil, fmt.Errorf("waiting for connection_ack: %w", err)
		}
		var m struct{ Type string }
		_ = json.Unmarshal(b, &m)
		if m.Type == "connection_ack" {
			break
		}
	}
	err = send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": a.Query, "variables": a.Variables}})
	if err != nil {
		return nil, err
	}
	return &subscriber{ws: ws}, nil
}

// listen answers pings and stamps the first event heard in each round.
func (s *subscriber) listen(round, heard *atomic.Int64) {
	ctx := context.Background()
	for {
		_, b, err := s.ws.Read(ctx)
		if err != nil {
			return
		}
		now := time.Now().UnixNano()
		var m struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(b, &m)
		switch m.Type {
		case "next":
			if round.Load() != 0 && s.seen.CompareAndSwap(0, now) {
				heard.Add(1)
			}
		case "ping":
			_ = s.ws.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
		case "error", "complete":
			fmt.Fprintf(os.Stderr, "subscriber: %s\n", b)
		}
	}
}

func pct(sorted []float64, p float64) float64 {
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
