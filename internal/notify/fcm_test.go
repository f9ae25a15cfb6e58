package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"qinqing/internal/notify/notifytest"
	"strings"
	"testing"
	"time"

	"qinqing/internal/access"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

func TestMain(m *testing.M) { os.Exit(mongo.RunTests(m)) }

type fcmFixture struct {
	fcm     *FCM
	devices *Devices
	fake    *notifytest.FakeFCM
}

func newFCMFixture(t *testing.T) *fcmFixture {
	t.Helper()
	db := mongo.NewTestDB(t, mongo.Options{})
	devices := NewDevices(db, time.Now)
	fake := notifytest.NewFakeFCM(t)
	f, err := NewFCM(context.Background(), FCMConfig{
		CredentialsFile: notifytest.WriteServiceAccount(t, "qinqing-test"),
		Endpoint:        fake.URL,
	}, devices, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("NewFCM: %v", err)
	}
	if f == nil {
		t.Fatal("NewFCM returned nil with credentials")
	}
	return &fcmFixture{fcm: f, devices: devices, fake: fake}
}

// register gives a person a device token (padded past the 20-character minimum).
func (fx *fcmFixture) register(t *testing.T, userID, prefix string) string {
	t.Helper()
	tok := fmt.Sprintf("%s%s-%s", prefix, userID, strings.Repeat("x", 20))
	if _, err := fx.devices.Register(context.Background(), &access.Caller{Kind: auth.KindPerson, ID: userID}, tok, "ANDROID", "OWNER", "zh-CN"); err != nil {
		t.Fatalf("register %s: %v", tok, err)
	}
	return tok
}

func (fx *fcmFixture) hasDevice(t *testing.T, userID string) int64 {
	t.Helper()
	n, err := fx.devices.Count(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func fcmOut(delivery, userID string) Outgoing {
	return Outgoing{
		DeliveryID:     delivery,
		NotificationID: "n-" + delivery,
		RecipientKind:  auth.KindPerson,
		RecipientID:    userID,
		Kind:           RepairProgress,
		Priority:       80,
		Title:          "报修进度",
		Body:           "师傅已出发",
		Data:           map[string]string{"repairId": "r1"},
		Attempt:        1,
	}
}

func TestFCMOff(t *testing.T) {
	f, err := NewFCM(context.Background(), FCMConfig{}, nil, nil)
	if f != nil || err != nil {
		t.Fatalf("NewFCM with no credentials = %v, %v; want nil, nil", f, err)
	}
}

func TestFCMChannel(t *testing.T) {
	fx := newFCMFixture(t)
	if got := fx.fcm.Channel(); got != ChannelFCM {
		t.Fatalf("Channel() = %q", got)
	}
	var _ Sender = fx.fcm
}

func TestFCMSendTwoTokens(t *testing.T) {
	fx := newFCMFixture(t)
	a := fx.register(t, "u1", "ok-a-")
	b := fx.register(t, "u1", "ok-b-")
	res := fx.fcm.Send(context.Background(), []Outgoing{fcmOut("d1", "u1")})
	if len(res) != 1 || res[0].DeliveryID != "d1" || res[0].Status != StatusSent {
		t.Fatalf("results = %+v; want d1 SENT", res)
	}
	seen := fx.fake.Requests()
	if len(seen) != 2 {
		t.Fatalf("FCM saw %d requests; want 2", len(seen))
	}
	got := map[string]bool{}
	for _, s := range seen {
		got[s.Token] = true
		if s.Path != "/v1/projects/qinqing-test/messages:send" {
			t.Errorf("path = %q", s.Path)
		}
		if s.Auth != "Bearer t" {
			t.Errorf("Authorization = %q; want the fake OAuth token", s.Auth)
		}
		if s.Title != "报修进度" || s.Body != "师傅已出发" {
			t.Errorf("notification = %q / %q", s.Title, s.Body)
		}
		want := map[string]string{"repairId": "r1", "kind": "REPAIR_PROGRESS", "notificationId": "n-d1"}
		if len(s.Data) != len(want) {
			t.Errorf("data = %v; want %v", s.Data, want)
		}
		for k, v := range want {
			if s.Data[k] != v {
				t.Errorf("data[%s] = %q; want %q", k, s.Data[k], v)
			}
		}
		if s.Priority != "high" {
			t.Errorf("android priority = %q; want high for priority 80", s.Priority)
		}
		if s.Sound != "default" {
			t.Errorf("apns sound = %q", s.Sound)
		}
	}
	if !got[a] || !got[b] {
		t.Fatalf("tokens sent to = %v; want %s and %s", got, a, b)
	}
}

func TestFCMLowPriorityNotHigh(t *testing.T) {
	fx := newFCMFixture(t)
	fx.register(t, "u1", "ok-")
	o := fcmOut("d1", "u1")
	o.Kind, o.Priority = FestivalGreeting, 10
	if res := fx.fcm.Send(context.Background(), []Outgoing{o}); res[0].Status != StatusSent {
		t.Fatalf("result = %+v", res[0])
	}
	if p := fx.fake.Requests()[0].Priority; p != "" {
		t.Fatalf("android priority = %q for priority 10; want unset", p)
	}
}

func TestFCMNoDevice(t *testing.T) {
	fx := newFCMFixture(t)
	fx.register(t, "u2", "ok-")
	res := fx.fcm.Send(context.Background(), []Outgoing{fcmOut("d1", "nobody"), fcmOut("d2", "u2")})
	if res[0].DeliveryID != "d1" || res[0].Status != StatusUndeliverable || res[0].Error != "no device" {
		t.Fatalf("d1 = %+v; want UNDELIVERABLE no device", res[0])
	}
	if res[1].DeliveryID != "d2" || res[1].Status != StatusSent {
		t.Fatalf("d2 = %+v; want SENT", res[1])
	}
	if n := len(fx.fake.Requests()); n != 1 {
		t.Fatalf("FCM saw %d requests; want 1", n)
	}
}

func TestFCMGoneAndOK(t *testing.T) {
	fx := newFCMFixture(t)
	gone := fx.register(t, "u1", "gone-")
	ok := fx.register(t, "u1", "ok-")
	res := fx.fcm.Send(context.Background(), []Outgoing{fcmOut("d1", "u1")})
	if res[0].Status != StatusSent {
		t.Fatalf("result = %+v; want SENT", res[0])
	}
	devs, err := fx.devices.TokensFor(context.Background(), []string{"u1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(devs["u1"]) != 1 || devs["u1"][0].Token != ok {
		t.Fatalf("devices left = %+v; want only %s (%s removed)", devs["u1"], ok, gone)
	}
}

func TestFCMOnlyGone(t *testing.T) {
	fx := newFCMFixture(t)
	fx.register(t, "u1", "gone-a-")
	fx.register(t, "u1", "gone-b-")
	res := fx.fcm.Send(context.Background(), []Outgoing{fcmOut("d1", "u1")})
	if res[0].Status != StatusUndeliverable {
		t.Fatalf("result = %+v; want UNDELIVERABLE", res[0])
	}
	if n := fx.hasDevice(t, "u1"); n != 0 {
		t.Fatalf("%d devices left; want the unregistered tokens removed", n)
	}
}

func TestFCMInvalidArgument(t *testing.T) {
	fx := newFCMFixture(t)
	fx.register(t, "u1", "invalid-")
	bad := fx.register(t, "u2", "bad-")
	res := fx.fcm.Send(context.Background(), []Outgoing{fcmOut("d1", "u1"), fcmOut("d2", "u2")})
	if res[0].Status != StatusUndeliverable {
		t.Fatalf("malformed token: %+v; want UNDELIVERABLE", res[0])
	}
	if n := fx.hasDevice(t, "u1"); n != 0 {
		t.Fatalf("malformed token kept (%d devices)", n)
	}
	// A payload FCM refuses says nothing about the token: FAILED, device kept.
	if res[1].Status != StatusFailed || !strings.Contains(res[1].Error, "too big") {
		t.Fatalf("bad payload: %+v; want FAILED with the error", res[1])
	}
	devs, _ := fx.devices.TokensFor(context.Background(), []string{"u2"})
	if len(devs["u2"]) != 1 || devs["u2"][0].Token != bad {
		t.Fatalf("bad-payload device removed: %+v", devs["u2"])
	}
}

func TestFCMQuotaRetryAfter(t *testing.T) {
	fx := newFCMFixture(t)
	busy := fx.register(t, "u1", "busy-")
	start := time.Now()
	res := fx.fcm.Send(context.Background(), []Outgoing{fcmOut("d1", "u1")})
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("Send took %v; the client must not sleep on Retry-After", el)
	}
	if res[0].Status != StatusRetry || res[0].RetryAfter != 7*time.Second {
		t.Fatalf("result = %+v; want RETRY after 7s", res[0])
	}
	if n := len(fx.fake.ForToken(busy)); n != 1 {
		t.Fatalf("FCM saw %d requests for the busy token; want 1 (no client-side retry)", n)
	}
	if fx.hasDevice(t, "u1") != 1 {
		t.Fatal("a throttled token must be kept")
	}
}

func TestFCMUnavailableRetry(t *testing.T) {
	fx := newFCMFixture(t)
	down := fx.register(t, "u1", "down-")
	start := time.Now()
	res := fx.fcm.Send(context.Background(), []Outgoing{fcmOut("d1", "u1")})
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("Send took %v; the SDK's own 503 backoff (1s+2s+4s) must be off", el)
	}
	if res[0].Status != StatusRetry || res[0].RetryAfter != 0 {
		t.Fatalf("result = %+v; want RETRY with no Retry-After", res[0])
	}
	if n := len(fx.fake.ForToken(down)); n != 1 {
		t.Fatalf("FCM saw %d requests for the 503 token; want 1 (the SDK retries 503 up to 4 times unless stopped)", n)
	}
	if fx.hasDevice(t, "u1") != 1 {
		t.Fatal("a token must be kept when FCM is down")
	}
}

func TestFCMMixedFailuresRetryWins(t *testing.T) {
	fx := newFCMFixture(t)
	fx.register(t, "u1", "gone-")
	fx.register(t, "u1", "busy-")
	res := fx.fcm.Send(context.Background(), []Outgoing{fcmOut("d1", "u1")})
	if res[0].Status != StatusRetry || res[0].RetryAfter != 7*time.Second {
		t.Fatalf("result = %+v; want RETRY 7s", res[0])
	}
	if fx.hasDevice(t, "u1") != 1 {
		t.Fatal("want the gone token removed and the busy one kept")
	}
}

func TestFCMTransportErrorRetry(t *testing.T) {
	db := mongo.NewTestDB(t, mongo.Options{})
	devices := NewDevices(db, time.Now)
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	f, err := NewFCM(context.Background(), FCMConfig{
		CredentialsFile: notifytest.WriteServiceAccount(t, "qinqing-test"),
		Endpoint:        "http://" + addr,
	}, devices, nil)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fcmFixture{fcm: f, devices: devices}
	fx.register(t, "u1", "ok-")
	start := time.Now()
	res := f.Send(context.Background(), []Outgoing{fcmOut("d1", "u1")})
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("Send took %v; the SDK's own network-error backoff must be off", el)
	}
	if res[0].Status != StatusRetry || res[0].Error == "" {
		t.Fatalf("result = %+v; want RETRY with the transport error", res[0])
	}
}

func TestFCMChunksOf500(t *testing.T) {
	fx := newFCMFixture(t)
	const n = 600
	// 600 Register calls take a minute under -race on the embedded database;
	// the same documents go in with one InsertMany.
	batch := make([]Outgoing, n)
	docs := make([]any, n)
	for i := range n {
		uid := fmt.Sprintf("u%03d", i)
		docs[i] = Device{Token: fmt.Sprintf("ok-%s-%s", uid, strings.Repeat("x", 20)), UserKind: string(auth.KindPerson),
			UserID: uid, Platform: "ANDROID", App: "OWNER", Locale: "zh-CN", UpdatedAt: time.Now().UTC()}
		batch[i] = fcmOut(fmt.Sprintf("d%03d", i), uid)
	}
	if _, err := fx.devices.col.InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := fx.fcm.Send(context.Background(), batch)
	t.Logf("600 deliveries sent in %v", time.Since(start))
	if len(res) != n {
		t.Fatalf("%d results; want %d", len(res), n)
	}
	for i, r := range res {
		if r.DeliveryID != batch[i].DeliveryID || r.Status != StatusSent {
			t.Fatalf("result %d = %+v; want %s SENT", i, r, batch[i].DeliveryID)
		}
	}
	seen := fx.fake.Requests()
	if len(seen) != n {
		t.Fatalf("FCM saw %d requests; want %d", len(seen), n)
	}
	tokens := map[string]bool{}
	for _, s := range seen {
		tokens[s.Token] = true
	}
	if len(tokens) != n {
		t.Fatalf("%d distinct tokens; want %d", len(tokens), n)
	}
}

func TestFCMParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-3", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"999999999", time.Hour},
	} {
		if got := parseRetryAfter(c.in, now); got != c.want {
			t.Errorf("parseRetryAfter(%q) = %v; want %v", c.in, got, c.want)
		}
	}
}

func TestFCMEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:9000":         "http://127.0.0.1:9000/v1",
		"http://127.0.0.1:9000/":        "http://127.0.0.1:9000/v1",
		"https://fcm.googleapis.com/v1": "https://fcm.googleapis.com/v1",
		"http://fake/custom/":           "http://fake/custom",
	} {
		if got := fcmEndpoint(in); got != want {
			t.Errorf("fcmEndpoint(%q) = %q; want %q", in, got, want)
		}
	}
}
