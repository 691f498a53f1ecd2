// Package mailtest runs a real dovecot IMAP server for tests: the mail
// package's own and the appliance's. Dovecot comes from the Debian package
// dovecot-imapd, which make check installs.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Dovecot is a real dovecot IMAP server run for one test: its own
// config, a passwd-file user, maildirs in a temporary folder, listening on
// free ports of 127.0.0.1: one plain (with STARTTLS), one with implicit
// TLS under a certificate made for the test.
type Dovecot struct {
	Addr       string // plain text, STARTTLS offered
	TLSAddr    string // implicit TLS
	Roots      *x509.CertPool
	User, Pass string
	Dir        string
	cmd        *exec.Cmd
}

// dovecotBin finds dovecot, or skips the test on a laptop without it
// and fails it in CI (CI=true), where make check installs it.
func dovecotBin(t testing.TB) string {
	for _, p := range []string{"dovecot", "/usr/sbin/dovecot"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("dovecot is not installed; make check installs it (apt-get install dovecot-imapd)")
	}
	t.Skip("dovecot is not installed (apt-get install dovecot-imapd); skipping the IMAP tests against a real server")
	return ""
}

// StartDovecot starts dovecot as the current user, the way its
// documentation describes running it unprivileged. Dovecot refuses to
// run its login processes as root, so when the tests run as root the
// server runs as the "dovecot" system user its package creates.
func StartDovecot(t testing.TB) *Dovecot {
	t.Helper()
	bin := dovecotBin(t)
	// A short path: dovecot's sockets live in it, and a socket path has
	// at most 107 bytes.
	dir, err := os.MkdirTemp("", "imapd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	var cred *syscall.Credential
	if os.Getuid() == 0 {
		if u, err = user.Lookup("dovecot"); err != nil {
			t.Fatalf("running as root needs the dovecot system user, which the dovecot-core package creates: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	group, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	d := &Dovecot{User: "desk", Pass: "s3cret-Desk-Passw0rd", Dir: dir}
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(d.User+":{PLAIN}"+d.Pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"run", "state", "mail", "home"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	d.Roots = testCert(t, dir)
	for attempt := 0; ; attempt++ {
		port, tlsPort := FreePort(t), FreePort(t)
		conf := fmt.Sprintf(`# dovecot for one test, run unprivileged
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
info_log_path = %[1]s/dovecot.log
default_internal_user = %[2]s
default_internal_group = %[3]s
default_login_user = %[2]s
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = %[4]s
last_valid_uid = %[4]s
mail_location = maildir:%[1]s/mail/%%u
mailbox_idle_check_interval = 1 secs
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[4]s gid=%[5]s home=%[1]s/home/%%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = %[6]d
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = %[7]d
  }
}
service anvil {
  chroot =
}
`, dir, u.Username, group.Name, u.Uid, u.Gid, port, tlsPort)
		confPath := filepath.Join(dir, "dovecot.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		if cred != nil {
			filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
				if err == nil {
					err = os.Chown(p, int(cred.Uid), int(cred.Gid))
				}
				return err
			})
		}
		cmd := exec.Command(bin, "-F", "-c", confPath)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start dovecot: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		d.Addr, d.cmd = net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd
		d.TLSAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsPort))
		if err := d.waitReady(exited); err != nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			if attempt < 2 {
				t.Logf("dovecot did not come up on port %d, trying another: %v", port, err)
				continue
			}
			t.Fatalf("dovecot did not come up: %v\n%s\n%s", err, out.String(), log)
		}
		t.Cleanup(func() {
			syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-exited:
				// Whatever of this server's process group is left.
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			case <-time.After(5 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
			}
		})
		return d
	}
}

// waitReady waits until a client can log in.
func (d *Dovecot) waitReady(exited <-chan error) error {
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("dovecot exited: %v", err)
		default:
		}
		c, err := d.Client()
		if err == nil {
			c.Close()
			return nil
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no login within 20s: %v", last)
}

// testCert writes a self-signed certificate for 127.0.0.1 into dir
// (cert.pem, key.pem) and returns a pool that trusts it.
func testCert(t testing.TB, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "imap test server"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return pool
}

// FreePort returns a TCP port of 127.0.0.1 that nothing listens on.
func FreePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Client returns a logged-in client of the test user.
func (d *Dovecot) Client() (*imapclient.Client, error) {
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		return nil, err
	}
	if err := c.Login(d.User, d.Pass).Wait(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Deliver appends a mail to a mailbox with flags, as the mail server's
// delivery would, and returns its UID.
func (d *Dovecot) Deliver(t testing.TB, mailbox string, raw []byte, flags ...imap.Flag) imap.UID {
	t.Helper()
	c, err := d.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if mailbox != "INBOX" {
		c.Create(mailbox, nil).Wait() // may exist
	}
	cmd := c.Append(mailbox, int64(len(raw)), &imap.AppendOptions{Flags: flags})
	if _, err := cmd.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := cmd.Wait()
	if err != nil {
		t.Fatalf("append to %s: %v", mailbox, err)
	}
	return data.UID
}

// Mail is a mail in a mailbox as the server shows it.
type Mail struct {
	UID     imap.UID
	Subject string
	Seen    bool
}

// Mails lists a mailbox with each mail's \Seen flag.
func (d *Dovecot) Mails(t testing.TB, mailbox string) []Mail {
	t.Helper()
	c, err := d.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("select %s: %v", mailbox, err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	var set imap.SeqSet
	set.AddRange(1, sel.NumMessages)
	bufs, err := c.Fetch(set, &imap.FetchOptions{UID: true, Flags: true, Envelope: true}).Collect()
	if err != nil {
		t.Fatalf("fetch %s: %v", mailbox, err)
	}
	var out []Mail
	for _, b := range bufs {
		f := Mail{UID: b.UID}
		if b.Envelope != nil {
			f.Subject = b.Envelope.Subject
		}
		for _, fl := range b.Flags {
			if fl == imap.FlagSeen {
				f.Seen = true
			}
		}
		out = append(out, f)
	}
	return out
}

// Seen reports whether the mail with uid is \Seen.
func (d *Dovecot) Seen(t testing.TB, mailbox string, uid imap.UID) bool {
	for _, m := range d.Mails(t, mailbox) {
		if m.UID == uid {
			return m.Seen
		}
	}
	t.Fatalf("mail %d is not in %s", uid, mailbox)
	return false
}

// Log is the server's log, for failure messages.
func (d *Dovecot) Log() string {
	b, _ := os.ReadFile(filepath.Join(d.Dir, "dovecot.log"))
	return strings.TrimSpace(string(b))
}
