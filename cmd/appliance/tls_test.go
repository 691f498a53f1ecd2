package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// With tls = "self-signed" the staff pages answer over HTTPS with a
// certificate the box made on first start and reuses after a restart, and
// the cookies it sets are Secure.
func TestApplianceSelfSignedTLS(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	run := func() (string, func()) {
		t.Helper()
		addr := freeAddr(t)
		logs := &logBuffer{}
		cmd := exec.Command(bin, "run", "--data", data, "--http", addr)
		cmd.Env = append(os.Environ(), "COUNTERDESK_SIP_LISTEN=127.0.0.1:0", "COUNTERDESK_HTTP_TLS=self-signed")
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stop := func() {
			cmd.Process.Signal(syscall.SIGTERM)
			if err := cmd.Wait(); err != nil {
				t.Errorf("appliance exited with %v:\n%s", err, logs)
			}
		}
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(logs.String(), "counterdesk ready") {
			if time.Now().After(deadline) {
				stop()
				t.Fatalf("not ready:\n%s", logs)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(logs.String(), "https://") || !strings.Contains(logs.String(), "certificate_sha256=") {
			t.Errorf("the ready lines do not show HTTPS and the fingerprint:\n%s", logs)
		}
		return addr, stop
	}
	client := func() *http.Client {
		t.Helper()
		pemBytes, err := os.ReadFile(filepath.Join(data, "tls", "cert.pem"))
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pemBytes) {
			t.Fatal("cert.pem holds no certificate")
		}
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	}

	addr, stop := run()
	c := client()
	r, err := c.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || r.TLS == nil {
		t.Fatalf("healthz over TLS: %d", r.StatusCode)
	}
	first := r.TLS.PeerCertificates[0].Raw
	r, err = c.Get("https://" + addr + "/login")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	cookies := r.Header.Values("Set-Cookie")
	if len(cookies) == 0 {
		t.Fatal("the login page set no cookie")
	}
	for _, ck := range cookies {
		lc := strings.ToLower(ck)
		if !strings.Contains(lc, "; secure") || !strings.Contains(lc, "httponly") || !strings.Contains(lc, "samesite=strict") {
			t.Errorf("cookie over HTTPS: %s", ck)
		}
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("plain HTTP was answered on the HTTPS port")
	}
	if st, err := os.Stat(filepath.Join(data, "tls", "key.pem")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key.pem: %v %v", st.Mode(), err)
	}
	stop()

	// After a restart the same certificate serves.
	addr, stop = run()
	defer stop()
	r, err = client().Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if string(r.TLS.PeerCertificates[0].Raw) != string(first) {
		t.Error("a new certificate after the restart")
	}
}
