package wechatpay_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// BenchmarkParseNotification is the cost of one notification: RSA verify
// (twice: ours for a clean error, then the SDK's) and AES-GCM decryption.
// The bare sub-benchmark is one verify and one decryption by hand, the
// floor any implementation pays; compare ns/op and allocs/op in one run.
func BenchmarkParseNotification(b *testing.B) {
	m, srv, c := setup(b)
	paidOrder(b, srv, c, "FEE-BENCH-000001", 35_120)
	ctx := context.Background()
	req, err := srv.NotificationRequest(ctx, notifyURL, "FEE-BENCH-000001")
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		b.Fatal(err)
	}
	fresh := func() *http.Request {
		r := req.Clone(ctx)
		r.Body = io.NopCloser(bytes.NewReader(body))
		return r
	}
	b.Run("client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.ParseNotification(ctx, fresh()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare", func(b *testing.B) {
		cert := srv.Config(notifyURL).PlatformCert
		pub := cert.PublicKey.(*rsa.PublicKey)
		block, _ := aes.NewCipher([]byte(m.APIv3Key))
		gcm, _ := cipher.NewGCM(block)
		b.ReportAllocs()
		for b.Loop() {
			r := fresh()
			raw, _ := io.ReadAll(r.Body)
			sig, _ := base64.StdEncoding.DecodeString(r.Header.Get("Wechatpay-Signature"))
			sum := sha256.Sum256([]byte(r.Header.Get("Wechatpay-Timestamp") + "\n" + r.Header.Get("Wechatpay-Nonce") + "\n" + string(raw) + "\n"))
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
				b.Fatal(err)
			}
			var n struct {
				Resource struct{ Ciphertext, Nonce string } `json:"resource"`
			}
			_ = json.Unmarshal(raw, &n)
			ct, _ := base64.StdEncoding.DecodeString(n.Resource.Ciphertext)
			if _, err := gcm.Open(nil, []byte(n.Resource.Nonce), ct, []byte("transaction")); err != nil {
				b.Fatal(err)
			}
		}
	})
}
