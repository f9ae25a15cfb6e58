// Package sms sends text messages to mainland China mobile numbers. The
// domain packages depend on Sender only, so development runs without a
// gateway account and tests run against a local fake gateway.
package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Sender delivers one text message.
type Sender interface {
	Send(ctx context.Context, phone, text string) error
}

// LogSender is the development default: it logs instead of sending, so a
// developer can read login codes from the console.
type LogSender struct{ Log *slog.Logger }

// Send logs the message.
func (s LogSender) Send(ctx context.Context, phone, text string) error {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "sms (development sender, not sent)", "phone", phone, "text", text)
	return nil
}

// HTTPSender talks to a generic JSON gateway; vendor SDKs differ, so a small
// relay in front of the vendor keeps this side stable.
type HTTPSender struct {
	BaseURL string
	Client  *http.Client // nil means a client with a 10 s timeout
	APIKey  string
}

var defaultClient = &http.Client{Timeout: 10 * time.Second}

// Send posts {"phone","text"} to BaseURL/send; any non-2xx answer is an error.
func (s HTTPSender) Send(ctx context.Context, phone, text string) error {
	body, err := json.Marshal(struct {
		Phone string `json:"phone"`
		Text  string `json:"text"`
	}{phone, text})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(s.BaseURL, "/")+"/send", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+s.APIKey)
	}
	c := s.Client
	if c == nil {
		c = defaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	defer resp.Body.Close()
	// Read a little of the body so the gateway's reason lands in our logs.
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("sms: gateway answered %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}
