// Package wechatpaytest is a local WeChat Pay API v3 for tests: it checks
// the merchant's request signatures, signs its answers and notifications
// with a platform key of its own, and keeps orders in memory, so the real
// SDK (through wechatpay.Client) runs unchanged against it.
package wechatpaytest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/utils"
)

// Merchant is a throwaway merchant account: what the merchant platform
// would issue (an API certificate's key and serial, an APIv3 key) and the
// app ids the payments are for.
type Merchant struct {
	MchID            string
	Serial           string
	Key              *rsa.PrivateKey
	APIv3Key         string // 32 bytes
	MiniProgramAppID string
	AppAppID         string
}

// NewMerchant generates a merchant with fresh keys.
func NewMerchant(t testing.TB) *Merchant {
	t.Helper()
	key := newKey(t)
	return &Merchant{
		MchID: "1900000109", Serial: randomHex(t, 20), Key: key, APIv3Key: randomHex(t, 16),
		MiniProgramAppID: "wxminiprogram0001", AppAppID: "wxmobileapp000001",
	}
}

// WriteKey writes the merchant's private key as PKCS #8 PEM (the form the
// merchant platform hands out) into dir and returns its path.
func (m *Merchant) WriteKey(t testing.TB, dir string) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(m.Key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, filepath.Join(dir, "apiclient_key.pem"), "PRIVATE KEY", der)
}

// platform is WeChat's side: the key that signs answers and notifications,
// its certificate, and the public-key id newer merchants verify with.
type platform struct {
	key    *rsa.PrivateKey
	cert   *x509.Certificate
	serial string
	keyID  string
}

func newPlatform(t testing.TB) *platform {
	t.Helper()
	key := newKey(t)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "Tenpay.com Root CA (test)", Organization: []string{"Tenpay.com"}},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &platform{key: key, cert: cert, serial: utils.GetCertificateSerialNumber(*cert), keyID: "PUB_KEY_ID_" + randomHex(t, 12)}
}

// WriteCertificate writes the platform certificate as PEM into dir.
func (s *Server) WriteCertificate(t testing.TB, dir string) string {
	t.Helper()
	return writePEM(t, filepath.Join(dir, "wechatpay_cert.pem"), "CERTIFICATE", s.p.cert.Raw)
}

// WritePublicKey writes the platform public key as PEM (PKIX) into dir.
func (s *Server) WritePublicKey(t testing.TB, dir string) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&s.p.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, filepath.Join(dir, "pub_key.pem"), "PUBLIC KEY", der)
}

func writePEM(t testing.TB, path, typ string, der []byte) string {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// newKey is RSA 2048, the size WeChat Pay uses.
func newKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(fmt.Errorf("random: %w", err))
	}
	return fmt.Sprintf("%X", b)
}
