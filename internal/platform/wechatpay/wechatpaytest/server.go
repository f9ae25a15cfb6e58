package wechatpaytest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"qinqing/internal/platform/wechatpay"
)

// Server is the fake WeChat Pay for one merchant. Orders start NOTPAY;
// Pay marks one paid, Notify tells the merchant's notify URL.
type Server struct {
	URL string

	m        *Merchant
	p        *platform
	impostor *rsa.PrivateKey // signs answers while SignBadly is on
	pubKey   bool

	mu           sync.Mutex
	orders       map[string]*order
	refunds      map[string]*refund
	seq          int
	badSig       bool
	refundStatus string
	// refundRefusal, when set, is the error code new refunds are refused
	// with (NOT_ENOUGH: the merchant's balance cannot cover them).
	refundRefusal string
	requests      []string
}

// Option changes how the fake behaves.
type Option func(*Server)

// WithPublicKey makes the fake sign as for merchants that verify with the
// platform public key: Wechatpay-Serial is the public-key id.
func WithPublicKey() Option { return func(s *Server) { s.pubKey = true } }

type order struct {
	appID, openID, tradeType, description string
	outTradeNo, prepayID, transactionID   string
	state                                 string
	total, refunded                       int64
	successTime                           time.Time
}

type refund struct {
	notifyURL                                          string
	id, outRefundNo, outTradeNo, transactionID, status string
	amount, total                                      int64
	created                                            time.Time
}

// shanghai is the zone WeChat writes its times in.
var shanghai = time.FixedZone("CST", 8*3600)

// New starts the fake for merchant m; it stops when the test ends.
func New(t testing.TB, m *Merchant, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		m: m, p: newPlatform(t), impostor: newKey(t),
		orders: map[string]*order{}, refunds: map[string]*refund{}, refundStatus: wechatpay.RefundSuccess,
	}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/pay/transactions/jsapi", s.prepay("JSAPI"))
	mux.HandleFunc("POST /v3/pay/transactions/app", s.prepay("APP"))
	mux.HandleFunc("GET /v3/pay/transactions/out-trade-no/{no}", s.query)
	mux.HandleFunc("POST /v3/refund/domestic/refunds", s.createRefund)
	mux.HandleFunc("GET /v3/refund/domestic/refunds/{no}", s.queryRefund)
	ts := httptest.NewServer(s.authenticate(mux))
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

// Config is a client configuration for m that reaches this fake and
// verifies its signatures, as production would (platform certificate, or
// the public key under WithPublicKey).
func (s *Server) Config(notifyURL string) wechatpay.Config {
	c := wechatpay.Config{
		MchID: s.m.MchID, SerialNo: s.m.Serial, PrivateKey: s.m.Key, APIv3Key: s.m.APIv3Key,
		MiniProgramAppID: s.m.MiniProgramAppID, AppAppID: s.m.AppAppID, NotifyURL: notifyURL, BaseURL: s.URL,
	}
	if s.pubKey {
		c.PublicKeyID, c.PublicKey = s.p.keyID, &s.p.key.PublicKey
	} else {
		c.PlatformCert = s.p.cert
	}
	return c
}

// PublicKeyID is the platform public key's id (PUB_KEY_ID_...).
func (s *Server) PublicKeyID() string { return s.p.keyID }

// SignBadly makes the fake sign its answers with a key that is not the
// platform's, as a man in the middle would; the SDK must refuse them.
func (s *Server) SignBadly(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.badSig = on
}

// RefundStatus sets the status new refunds answer with (default SUCCESS;
// PROCESSING is what the real API usually says first).
func (s *Server) RefundStatus(status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refundStatus = status
}

// RefuseRefunds makes new refund requests fail with code (e.g.
// NOT_ENOUGH, 403), as WeChat does when the merchant's balance is short;
// "" accepts them again.
func (s *Server) RefuseRefunds(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refundRefusal = code
}

// FinishRefund moves a refund to status (SUCCESS, CLOSED, ABNORMAL), as
// WeChat does once the money has moved.
func (s *Server) FinishRefund(outRefundNo, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.refunds[outRefundNo]
	if !ok {
		return fmt.Errorf("wechatpaytest: no refund %s", outRefundNo)
	}
	r.status = status
	return nil
}

// Requests lists the API calls received, as "METHOD /path".
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Pay marks the order paid by its payer, as if they had entered their
// password, and returns it as a query would. Paying twice is an error.
func (s *Server) Pay(outTradeNo string) (*wechatpay.Transaction, error) {
	return s.PayAmount(outTradeNo, 0)
}

// PayAmount is Pay, with WeChat reporting fen as the order's total from
// then on (0: the order's own), for a merchant to meet a paid result whose
// amount is not its order's.
func (s *Server) PayAmount(outTradeNo string, fen int64) (*wechatpay.Transaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[outTradeNo]
	if !ok {
		return nil, fmt.Errorf("wechatpaytest: no order %s", outTradeNo)
	}
	if o.state != wechatpay.StateNotPay {
		return nil, fmt.Errorf("wechatpaytest: order %s is %s", outTradeNo, o.state)
	}
	if fen > 0 {
		o.total = fen
	}
	s.seq++
	o.state, o.transactionID = wechatpay.StateSuccess, fmt.Sprintf("42000%015d", s.seq)
	o.successTime = time.Now().In(shanghai).Truncate(time.Second)
	return &wechatpay.Transaction{
		OutTradeNo: o.outTradeNo, TransactionID: o.transactionID, State: o.state, StateDesc: "支付成功",
		TradeType: o.tradeType, AppID: o.appID, MchID: s.m.MchID, AmountFen: o.total, PayerTotalFen: o.total,
		Currency: "CNY", OpenID: o.openID, SuccessTime: o.successTime,
	}, nil
}

// authenticate checks the merchant's Authorization header on every call,
// as the real API does: a wrong merchant, serial, stale timestamp or bad
// signature is 401 SIGN_ERROR.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			s.reply(w, http.StatusBadRequest, apiError("PARAM_ERROR", "读取请求失败"))
			return
		}
		s.mu.Lock()
		s.requests = append(s.requests, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		if err := s.checkAuthorization(r, body); err != nil {
			s.reply(w, http.StatusUnauthorized, apiError("SIGN_ERROR", "签名错误: "+err.Error()))
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		next.ServeHTTP(w, r)
	})
}

func (s *Server) checkAuthorization(r *http.Request, body []byte) error {
	const scheme = "WECHATPAY2-SHA256-RSA2048 "
	h := r.Header.Get("Authorization")
	if !strings.HasPrefix(h, scheme) {
		return fmt.Errorf("authorization scheme")
	}
	f := map[string]string{}
	for _, kv := range strings.Split(strings.TrimPrefix(h, scheme), ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("authorization field %q", kv)
		}
		f[strings.TrimSpace(k)] = strings.Trim(v, `"`)
	}
	if f["mchid"] != s.m.MchID || f["serial_no"] != s.m.Serial {
		return fmt.Errorf("merchant %q serial %q", f["mchid"], f["serial_no"])
	}
	ts, err := strconv.ParseInt(f["timestamp"], 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return fmt.Errorf("timestamp %q", f["timestamp"])
	}
	sig, err := base64.StdEncoding.DecodeString(f["signature"])
	if err != nil {
		return fmt.Errorf("signature encoding")
	}
	msg := fmt.Sprintf("%s\n%s\n%s\n%s\n%s\n", r.Method, r.RequestURI, f["timestamp"], f["nonce_str"], body)
	sum := sha256.Sum256([]byte(msg))
	if err := rsa.VerifyPKCS1v15(&s.m.Key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return fmt.Errorf("signature")
	}
	return nil
}

// reply writes v as JSON signed like WeChat's answers.
func (s *Server) reply(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	key := s.p.key
	if s.badSig {
		key = s.impostor
	}
	s.mu.Unlock()
	for k, v := range s.sign(key, body) {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// sign gives the Wechatpay-* headers over body: "ts\nnonce\nbody\n",
// SHA256-RSA with key.
func (s *Server) sign(key *rsa.PrivateKey, body []byte) http.Header {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := nonceString()
	sum := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(body) + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err) // only with a broken key
	}
	serial := s.p.serial
	if s.pubKey {
		serial = s.p.keyID
	}
	h := http.Header{}
	h.Set("Wechatpay-Timestamp", ts)
	h.Set("Wechatpay-Nonce", nonce)
	h.Set("Wechatpay-Signature", base64.StdEncoding.EncodeToString(sig))
	h.Set("Wechatpay-Serial", serial)
	h.Set("Request-Id", "fake-"+nonce)
	return h
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// nonceString is 32 random letters and digits (notifications use the
// first 12 as the GCM nonce).
func nonceString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func apiError(code, msg string) map[string]string {
	return map[string]string{"code": code, "message": msg}
}
