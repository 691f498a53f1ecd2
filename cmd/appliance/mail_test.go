package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailServer is an SMTP server (go-smtp's own) that takes mails after
// STARTTLS and AUTH PLAIN, and keeps them.
type mailServer struct {
	user, password string
	mu             stdsync.Mutex
	mails          []string
	rcpts          [][]string // each mail's envelope recipients
}

func (m *mailServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }

func (m *mailServer) received() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.mails...)
}

// to returns the mails sent to addr.
func (m *mailServer) to(addr string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for i, rcpts := range m.rcpts {
		if slices.Contains(rcpts, addr) {
			out = append(out, m.mails[i])
		}
	}
	return out
}

type mailSession struct {
	m      *mailServer
	authed bool
	rcpts  []string
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != s.m.user || password != s.m.password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.authed = true
		return nil
	}), nil
}

func (s *mailSession) Mail(string, *smtp.MailOptions) error {
	if !s.authed {
		return &smtp.SMTPError{Code: 530, Message: "authentication required"}
	}
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.mails = append(s.m.mails, string(b))
	s.m.rcpts = append(s.m.rcpts, s.rcpts)
	s.m.mu.Unlock()
	s.rcpts = nil
	return nil
}
func (s *mailSession) Reset()        { s.rcpts = nil }
func (s *mailSession) Logout() error { return nil }

// selfSigned returns a certificate for 127.0.0.1 and its PEM.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mail.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, BasicConstraintsValid: true, IsCA: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// startMailServer runs an SMTP server on 127.0.0.1 that takes mails after
// STARTTLS (a self-signed certificate, returned as PEM) and AUTH PLAIN as
// user, until the test ends.
func startMailServer(t *testing.T, user, password string) (*mailServer, string, []byte) {
	t.Helper()
	cert, certPEM := selfSigned(t)
	ms := &mailServer{user: user, password: password}
	srv := smtp.NewServer(ms)
	srv.Domain = "mail.test"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ms, ln.Addr().String(), certPEM
}

// A staff reply to a customer who wrote from an email address leaves the
// running appliance by SMTP (STARTTLS, AUTH with the password from a
// systemd credential), threaded with the ticket's number in the subject,
// and the password never reaches the log.
func TestApplianceSendsReplyByMail(t *testing.T) {
	const password = "smtp-pw-31f9a0c2"
	ms, addr, certPEM := startMailServer(t, "desk@wings.example", password)

	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, certPEM, 0o600)
	creds := filepath.Join(dir, "creds")
	os.Mkdir(creds, 0o700)
	os.WriteFile(filepath.Join(creds, "mail-smtp-password"), []byte(password+"\n"), 0o600)
	cfg := filepath.Join(dir, "counterdesk.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`[shop]
name = "Wings & Things"

[mail]
smtp_server = %q
smtp_username = "desk@wings.example"
from = "desk@wings.example"
domain = "wings.example"
`, addr)), 0o600)

	bin := buildBinary(t)
	data := t.TempDir()
	token, _, code := cli(t, bin, "token", "create", "mail", "--role", "admin", "--data", data)
	if code != 0 {
		t.Fatalf("token create exited %d", code)
	}
	a := start(t, bin, data, "COUNTERDESK_CONFIG="+cfg, "CREDENTIALS_DIRECTORY="+creds, "SSL_CERT_FILE="+caFile)
	defer a.kill()
	c := &api{addr: a.addr, token: strings.TrimSpace(token), client: &http.Client{Timeout: 5 * time.Second}}

	body, _ := json.Marshal(map[string]any{"subject": "Servo buzzing", "body": "My servo buzzes at neutral.",
		"contact": map[string]string{"email": "pilot@example.com", "name": "Kim"}})
	req, _ := http.NewRequest("POST", "http://"+a.addr+"/api/v1/tickets", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	r, err := c.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var cr createReply
	json.NewDecoder(r.Body).Decode(&cr)
	r.Body.Close()
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", r.StatusCode)
	}
	n := cr.Ticket.Number
	postReply(t, c, n, "Try re-centring it; bring it in if it still buzzes. Teşekkürler!")
	eventually(t, "the reply at the mail server", func() bool { return len(ms.received()) == 1 })
	mail := ms.received()[0]
	for _, want := range []string{
		"To: \"Kim\" <pilot@example.com>",
		fmt.Sprintf("Subject: Re: Servo buzzing [#%d]", n),
		fmt.Sprintf("Message-Id: <counterdesk.%s.", cr.Ticket.UUID),
		"@wings.example>",
	} {
		if !strings.Contains(mail, want) {
			t.Errorf("the mail lacks %q:\n%s", want, mail)
		}
	}
	if !strings.Contains(mail, `From: "Wings & Things" <desk@wings.example>`) {
		t.Errorf("the mail is not from the shop's name:\n%s", mail)
	}
	eventually(t, "the reply marked sent", func() bool {
		th := threadOf(t, c, n)
		last := th.Messages[len(th.Messages)-1]
		return last.Delivery == "sent"
	})
	a.stop(t)
	if strings.Contains(a.logs.String(), password) {
		t.Error("the SMTP password reached the log")
	}
}
