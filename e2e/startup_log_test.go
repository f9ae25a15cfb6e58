package e2e

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"qinqing/internal/notify/notifytest"
	"qinqing/internal/platform/mongo"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// The start-up log says what is on and with which outside names, what is
// off, and never a secret.
func TestStartupLogSaysWhatIsOn(t *testing.T) {
	fcm := notifytest.NewFakeFCM(t)
	cfg := testConfig()
	cfg.FCMCredentialsFile, cfg.FCMEndpoint = notifytest.WriteServiceAccount(t, "qinqing-test"), fcm.URL
	cfg.WechatAppID, cfg.WechatAppSecret = "wx0123456789abcdef", "wechat-secret-never-logged"
	cfg.WechatTemplates = map[string]string{"REPAIR_PROGRESS": "tpl-1"}
	cfg.SMSAPIKey = "sms-key-never-logged"
	var out lockedBuffer
	db := mongo.NewTestDB(t, mongo.Options{})
	e := startServerWithLog(t, db, cfg, slog.New(slog.NewTextHandler(&out, nil)))
	log := out.String()
	for _, want := range []string{
		`msg="FCM channel is on" project=qinqing-test`,
		`msg="WeChat mini-program sign-in is on" appId=wx0123456789abcdef`,
		`msg="WeChat subscribe messages are on" appId=wx0123456789abcdef kinds=[REPAIR_PROGRESS]`,
		`msg="SMS gateway is on" host=` + strings.TrimPrefix(e.SMS.URL, "http://"),
	} {
		if !strings.Contains(log, want) {
			t.Errorf("start-up log lacks %s:\n%s", want, log)
		}
	}
	for _, secret := range []string{cfg.WechatAppSecret, cfg.SMSAPIKey, cfg.JWTSecret, "PRIVATE KEY"} {
		if strings.Contains(log, secret) {
			t.Errorf("start-up log shows a secret (%s)", secret)
		}
	}
}
