package mail

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpTestMail is one mail the test server took.
type smtpTestMail struct {
	From string
	To   []string
	Data []byte
	TLS  bool
	User string
}

// smtpTestBackend is the backend of a real go-smtp server: it checks AUTH
// PLAIN against one user, records each mail, and answers chosen codes for
// chosen recipients, at RCPT or at the end of DATA.
type smtpTestBackend struct {
	user, password string

	mu        stdsync.Mutex
	mails     []smtpTestMail
	logins    int               // AUTH attempts
	rcptCodes map[string]int    // recipient -> reply to RCPT
	dataCodes map[string]int    // recipient -> reply to the message
	texts     map[string]string // recipient -> text of that reply
	authText  string            // text of a 535, when set
}

func (b *smtpTestBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &smtpTestSession{b: b, tls: isTLS}, nil
}

func (b *smtpTestBackend) Mails() []smtpTestMail {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]smtpTestMail(nil), b.mails...)
}

func (b *smtpTestBackend) Logins() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.logins
}

// answer makes the server answer code to recipient to, at RCPT (atData
// false) or after the message (atData true).
func (b *smtpTestBackend) answer(to string, code int, text string, atData bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rcptCodes == nil {
		b.rcptCodes, b.dataCodes, b.texts = map[string]int{}, map[string]int{}, map[string]string{}
	}
	if atData {
		b.dataCodes[to] = code
	} else {
		b.rcptCodes[to] = code
	}
	b.texts[to] = text
}

func (b *smtpTestBackend) reply(code int, text string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: text}
}

type smtpTestSession struct {
	b    *smtpTestBackend
	tls  bool
	user string
	mail smtpTestMail
}

func (s *smtpTestSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpTestSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		s.b.mu.Lock()
		defer s.b.mu.Unlock()
		s.b.logins++
		if username != s.b.user || password != s.b.password {
			if s.b.authText != "" {
				return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: s.b.authText}
			}
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *smtpTestSession) Mail(from string, opts *smtp.MailOptions) error {
	if s.b.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.mail = smtpTestMail{From: from, TLS: s.tls, User: s.user}
	return nil
}

func (s *smtpTestSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	s.b.mu.Lock()
	code, text := s.b.rcptCodes[to], s.b.texts[to]
	s.b.mu.Unlock()
	if code != 0 {
		return s.b.reply(code, text)
	}
	s.mail.To = append(s.mail.To, to)
	return nil
}

func (s *smtpTestSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	for _, to := range s.mail.To {
		if code := s.b.dataCodes[to]; code != 0 {
			return s.b.reply(code, s.b.texts[to])
		}
	}
	s.mail.Data = data
	s.b.mails = append(s.b.mails, s.mail)
	return nil
}

func (s *smtpTestSession) Reset()        { s.mail = smtpTestMail{} }
func (s *smtpTestSession) Logout() error { return nil }

// smtpTestServerOptions shape a test server.
type smtpTestServerOptions struct {
	TLS          string // "starttls" (default), "tls" (implicit) or "none"
	InsecureAuth bool   // offer AUTH without TLS
	MaxBytes     int64  // the SIZE the server announces; 0 is 30 MB
}

// smtpTestServer is a go-smtp server on 127.0.0.1 with a free port.
type smtpTestServer struct {
	Addr    string
	Backend *smtpTestBackend
	// Client trusts the server's self-signed certificate.
	Client *tls.Config
}

const (
	smtpTestUser     = "shop@kuscu-model.example"
	smtpTestPassword = "Gizli-Şifre-7f3a9c"
)

func startSMTPTestServer(t testing.TB, o smtpTestServerOptions) *smtpTestServer {
	t.Helper()
	cert, pool := smtpTestCertificate(t)
	be := &smtpTestBackend{user: smtpTestUser, password: smtpTestPassword}
	srv := smtp.NewServer(be)
	srv.Domain = "mx.test.example"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 30 << 20
	if o.MaxBytes > 0 {
		srv.MaxMessageBytes = o.MaxBytes
	}
	srv.AllowInsecureAuth = o.InsecureAuth
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = smtpTestLogger{t}
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	switch o.TLS {
	case "", SMTPStartTLS:
		srv.TLSConfig = serverTLS
	case SMTPImplicitTLS:
		ln = tls.NewListener(ln, serverTLS)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			t.Errorf("smtp server: %v", err)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return &smtpTestServer{Addr: ln.Addr().String(), Backend: be, Client: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
}

type smtpTestLogger struct{ t testing.TB }

func (l smtpTestLogger) Printf(format string, v ...any) { l.t.Logf("smtp server: "+format, v...) }
func (l smtpTestLogger) Println(v ...any)               { l.t.Log(append([]any{"smtp server:"}, v...)...) }

// smtpTestCertificate makes a self-signed certificate for 127.0.0.1 and
// a pool that trusts it.
func smtpTestCertificate(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mx.test.example"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"mx.test.example"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// smtpLogBuffer captures slog output safely across goroutines.
type smtpLogBuffer struct {
	mu  stdsync.Mutex
	buf bytes.Buffer
}

func (b *smtpLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *smtpLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *smtpLogBuffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// smtpWaitFor polls cond until it holds or the test's patience ends.
func smtpWaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func smtpContains(haystack []string, needle string) bool {
	for _, h := range haystack {
		if strings.Contains(h, needle) {
			return true
		}
	}
	return false
}
