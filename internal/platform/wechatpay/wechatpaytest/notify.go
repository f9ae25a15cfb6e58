package wechatpaytest

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// NotifyOption changes how a notification is delivered.
type NotifyOption func(*notifyOpts)

type notifyOpts struct {
	times    int
	badSig   bool
	tampered bool
}

// Twice delivers the same notification twice, as WeChat does when it does
// not see the first answer.
func Twice() NotifyOption { return func(o *notifyOpts) { o.times = 2 } }

// Dropped delivers nothing: the notification is lost, and only a query
// finds that the order was paid.
func Dropped() NotifyOption { return func(o *notifyOpts) { o.times = 0 } }

// BadSignature signs with a key that is not the platform's (a forgery).
func BadSignature() NotifyOption { return func(o *notifyOpts) { o.badSig = true } }

// Tampered changes the amount in the body after signing (the signature
// no longer matches, though the resource still decrypts).
func Tampered() NotifyOption { return func(o *notifyOpts) { o.tampered = true } }

// Notify posts the TRANSACTION.SUCCESS notification of a paid order to url
// and returns the HTTP status of each delivery made.
func (s *Server) Notify(ctx context.Context, url, outTradeNo string, opts ...NotifyOption) ([]int, error) {
	o := notifyOpts{times: 1}
	for _, f := range opts {
		f(&o)
	}
	body, err := s.notificationBody(outTradeNo, o.tampered)
	if err != nil {
		return nil, err
	}
	return s.deliver(ctx, url, body, o)
}

// deliver posts body o.times, signed as o says, and returns the statuses.
func (s *Server) deliver(ctx context.Context, url string, body signedBody, o notifyOpts) ([]int, error) {
	var statuses []int
	for range o.times {
		req, err := s.request(ctx, url, body, o)
		if err != nil {
			return statuses, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return statuses, fmt.Errorf("wechatpaytest: notify %s: %w", url, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	return statuses, nil
}

// NotificationRequest builds the notification Notify would post (without
// sending it), for handlers called directly.
func (s *Server) NotificationRequest(ctx context.Context, url, outTradeNo string, opts ...NotifyOption) (*http.Request, error) {
	o := notifyOpts{times: 1}
	for _, f := range opts {
		f(&o)
	}
	body, err := s.notificationBody(outTradeNo, o.tampered)
	if err != nil {
		return nil, err
	}
	return s.request(ctx, url, body, o)
}

// signedBody is what the signature covers and what is sent; they differ
// only for a tampered notification.
type signedBody struct {
	signed, sent []byte
}

// notificationBody is the real format: the transaction encrypted with
// AEAD_AES_256_GCM under the merchant's APIv3 key.
func (s *Server) notificationBody(outTradeNo string, tampered bool) (signedBody, error) {
	s.mu.Lock()
	o, ok := s.orders[outTradeNo]
	var tx map[string]any
	if ok {
		tx = s.transactionJSON(o)
	}
	s.mu.Unlock()
	if !ok || o.transactionID == "" {
		return signedBody{}, fmt.Errorf("wechatpaytest: order %s is not paid (Pay it first)", outTradeNo)
	}
	enc, err := s.encrypt(tx, "transaction", "transaction")
	if err != nil {
		return signedBody{}, err
	}
	n := map[string]any{
		"id": "EV-" + nonceString()[:20], "create_time": time.Now().In(shanghai).Format(time.RFC3339),
		"event_type": "TRANSACTION.SUCCESS", "resource_type": "encrypt-resource", "summary": "支付成功",
		"resource": enc,
	}
	b, err := json.Marshal(n)
	if err != nil {
		return signedBody{}, err
	}
	out := signedBody{signed: b, sent: b}
	if tampered {
		// A forger raising the amount cannot re-encrypt without the APIv3
		// key, so they swap the whole resource for one of their own.
		amount := tx["amount"].(map[string]any)
		amount["total"], amount["payer_total"] = amount["total"].(int64)*100, amount["total"].(int64)*100
		forged, err := s.encrypt(tx, "transaction", "transaction")
		if err != nil {
			return signedBody{}, err
		}
		n["resource"] = forged
		if out.sent, err = json.Marshal(n); err != nil {
			return signedBody{}, err
		}
	}
	return out, nil
}

func (s *Server) encrypt(v any, associated, originalType string) (map[string]string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher([]byte(s.m.APIv3Key))
	if err != nil {
		return nil, fmt.Errorf("wechatpaytest: APIv3 key: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := nonceString()[:gcm.NonceSize()]
	sealed := gcm.Seal(nil, []byte(nonce), plain, []byte(associated))
	return map[string]string{
		"algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.StdEncoding.EncodeToString(sealed),
		"associated_data": associated, "nonce": nonce, "original_type": originalType,
	}, nil
}

func (s *Server) request(ctx context.Context, url string, body signedBody, o notifyOpts) (*http.Request, error) {
	key := s.p.key
	if o.badSig {
		key = s.impostor
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body.sent))
	if err != nil {
		return nil, fmt.Errorf("wechatpaytest: notify request: %w", err)
	}
	req.Header = s.sign(key, body.signed)
	req.Header.Set("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Mozilla/4.0")
	return req, nil
}
