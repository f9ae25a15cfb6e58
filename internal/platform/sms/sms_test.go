package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHTTPSender(t *testing.T) {
	var got struct{ Phone, Text string }
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/send" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		auth = r.Header.Get("Authorization")
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Error(err)
		}
		if got.Phone == "13800000000" {
			http.Error(w, "quota exceeded", http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	s := HTTPSender{BaseURL: srv.URL + "/", APIKey: "k1"}

	if err := s.Send(context.Background(), "13800000001", "您好"); err != nil {
		t.Fatal(err)
	}
	if got.Phone != "13800000001" || got.Text != "您好" || auth != "Bearer k1" {
		t.Fatalf("gateway got %+v, auth %q", got, auth)
	}
	err := s.Send(context.Background(), "13800000000", "x")
	if err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("non-2xx answer: err = %v", err)
	}
}

func TestLogSender(t *testing.T) {
	var buf bytes.Buffer
	s := LogSender{Log: slog.New(slog.NewJSONHandler(&buf, nil))}
	if err := s.Send(context.Background(), "13800000001", "code 123456"); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["level"] != "INFO" || line["msg"] != "sms (development sender, not sent)" ||
		line["phone"] != "13800000001" || line["text"] != "code 123456" {
		t.Fatalf("log line %v", line)
	}
}
