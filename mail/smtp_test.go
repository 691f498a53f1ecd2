package mail

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpTestDesk is a hand-written desk: threads by number, attachment
// files in a folder.
type smtpTestDesk struct {
	mu      stdsync.Mutex
	threads map[uint64]ticket.Thread
	dir     string
	atts    map[string]ticket.Attachment
}

func newSMTPTestDesk(t testing.TB) *smtpTestDesk {
	return &smtpTestDesk{threads: map[uint64]ticket.Thread{}, dir: t.TempDir(), atts: map[string]ticket.Attachment{}}
}

func (d *smtpTestDesk) Thread(n uint64) (ticket.Thread, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	th, ok := d.threads[n]
	if !ok {
		return th, fmt.Errorf("ticket #%d: %w", n, ticket.ErrNotFound)
	}
	return th, nil
}

func (d *smtpTestDesk) Attachment(id string) (ticket.Attachment, string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.atts[id]
	if !ok {
		return a, "", fmt.Errorf("attachment %s: %w", id, ticket.ErrNotFound)
	}
	return a, filepath.Join(d.dir, id), nil
}

// store keeps a file as the desk does, named by its SHA-256.
func (d *smtpTestDesk) store(t testing.TB, name, contentType string, data []byte) ticket.Attachment {
	t.Helper()
	sum := sha256.Sum256(data)
	id := hex.EncodeToString(sum[:])
	if err := os.WriteFile(filepath.Join(d.dir, id), data, 0o600); err != nil {
		t.Fatal(err)
	}
	a := ticket.Attachment{ID: id, Name: name, ContentType: contentType, Size: int64(len(data))}
	d.mu.Lock()
	d.atts[id] = a
	d.mu.Unlock()
	return a
}

func (d *smtpTestDesk) put(th ticket.Thread) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.threads[th.Ticket.Number] = th
}

// The conversation of ticket #1042: a Turkish customer wrote twice, the
// shop answered once by mail, and now replies with a voice note.
const (
	smtpTestUUID      = "7d1c3e2a-5b6f-4c1d-9e8a-2f4b6c8d0e1f"
	smtpTestDomain    = "kuscu-model.example"
	smtpTestFirstID   = "CAE5x1q@mail.example.com.tr"
	smtpTestSecondID  = "20240611.second.9@mail.example.com.tr"
	smtpTestCustomer  = "ayse@example.com.tr"
	smtpTestShopName  = "Kuşçu Model Uçak"
	smtpTestReplyBody = "Merhaba Ayşe Hanım,\n\nPervaneniz için yedek parça geldi; çarşamba günü dükkândan alabilirsiniz.\nSesli notu ekledim.\n\nİyi uçuşlar,\nKuşçu Model Uçak  \n"
)

var smtpTestWav = func() []byte {
	// A short RIFF/WAVE header and a little 8 kHz PCM, bytes every
	// value, so that any mangling of binary data shows.
	b := []byte("RIFF\x24\x01\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x01\x00\x00")
	for i := range 256 {
		b = append(b, byte(i))
	}
	return b
}()

var smtpTestAt = time.Date(2024, 6, 12, 9, 41, 5, 0, time.UTC)

// smtpTestThread builds ticket #1042 and returns it with the delivery of
// its newest reply.
func smtpTestThread(t testing.TB, d *smtpTestDesk, to string) (ticket.Thread, ticket.Delivery) {
	t.Helper()
	wav := d.store(t, "sesli-not-çarşamba.wav", "audio/wav", smtpTestWav)
	th := ticket.Thread{
		Ticket:  ticket.Ticket{Number: 1042, UUID: smtpTestUUID, Subject: "Pervane kırıldı", Channel: ticket.ChannelEmail},
		Contact: ticket.Contact{ID: 7, Name: "Ayşe Yılmaz", Emails: []string{to}},
		Messages: []ticket.Message{
			{ID: 3, Ticket: 1042, Direction: ticket.Incoming, Channel: ticket.ChannelEmail, Subject: "Pervane kırıldı",
				Body: "Pervanem kırıldı.", SourceKey: smtpTestFirstID, Meta: ticket.Meta{"message_id": "<" + smtpTestFirstID + ">"}, At: smtpTestAt.Add(-48 * time.Hour)},
			{ID: 5, Ticket: 1042, Direction: ticket.Outgoing, Channel: ticket.ChannelEmail, Author: "mehmet",
				Body: "Sipariş ettik.", Delivery: ticket.DeliverySent, At: smtpTestAt.Add(-47 * time.Hour)},
			{ID: 6, Ticket: 1042, Direction: ticket.Incoming, Channel: ticket.ChannelEmail, Subject: "Re: Pervane kırıldı [#1042]",
				Body: "Ne zaman gelir?", SourceKey: smtpTestSecondID, Meta: ticket.Meta{"message_id": smtpTestSecondID}, At: smtpTestAt.Add(-2 * time.Hour)},
			{ID: 8, Ticket: 1042, Direction: ticket.Outgoing, Channel: ticket.ChannelEmail, Author: "mehmet",
				Body: smtpTestReplyBody, Attachments: []ticket.Attachment{wav}, Delivery: ticket.DeliveryQueued, At: smtpTestAt},
		},
		Events: []ticket.Event{
			{ID: 1, Ticket: 1042, Actor: ticket.Staff("mehmet"), Action: "reply", After: "message 5 by email"},
			{ID: 2, Ticket: 1042, Actor: ticket.Staff("mehmet"), Action: "reply", After: "message 8 by email"},
		},
	}
	d.put(th)
	return th, ticket.Delivery{
		Ticket: 1042, TicketRef: "#1042", MessageID: 8, To: to,
		Subject: "Re: Pervane kırıldı [#1042]", Body: smtpTestReplyBody,
	}
}

func smtpTestRow(t testing.TB, d ticket.Delivery) ticket.OutboxRow {
	t.Helper()
	payload, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return ticket.OutboxRow{ID: 99, Kind: SMTPKind, Ticket: d.Ticket, Key: fmt.Sprintf("message:%d", d.MessageID), Payload: payload}
}

// smtpRecorded is what the Delivered callback was told.
type smtpRecorded struct {
	Ticket, Message uint64
	State, Detail   string
}

type smtpRecorder struct {
	mu   stdsync.Mutex
	list []smtpRecorded
}

func (r *smtpRecorder) delivered(ctx context.Context, n, id uint64, state, detail string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, smtpRecorded{n, id, state, detail})
	return nil
}

func (r *smtpRecorder) all() []smtpRecorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]smtpRecorded(nil), r.list...)
}

// smtpTestOptions are the options of a sender for srv.
func smtpTestOptions(srv *smtpTestServer, desk SMTPDesk, reg *health.Registry, logs *smtpLogBuffer, rec *smtpRecorder) SMTPOptions {
	o := SMTPOptions{
		Server: srv.Addr, TLS: SMTPStartTLS, TLSConfig: srv.Client,
		Username: smtpTestUser, Password: smtpTestPassword,
		From: smtpTestUser, FromName: smtpTestShopName, Domain: smtpTestDomain,
		Timeout: 10 * time.Second, Location: time.UTC,
		Desk: desk, Health: reg,
	}
	if logs != nil {
		o.Logger = logs.Logger()
	}
	if rec != nil {
		o.Delivered = rec.delivered
	}
	return o
}

func newTestSMTPSender(t testing.TB, o SMTPOptions) *SMTPSender {
	t.Helper()
	s, err := NewSMTPSender(o)
	if err != nil {
		t.Fatalf("NewSMTPSender: %v", err)
	}
	return s
}

// smtpParsed is a mail as a receiver reads it with go-message.
type smtpParsed struct {
	Header gomail.Header
	Text   string // the text/plain part, CRLF as LF
	Files  map[string][]byte
	Types  map[string]string
	TextCT string
	TextTE string
}

func parseSMTPMail(t testing.TB, raw []byte) smtpParsed {
	t.Helper()
	p, err := smtpParse(raw)
	if err != nil {
		t.Fatalf("parse the mail: %v\n%s", err, raw)
	}
	return p
}

func smtpParse(raw []byte) (smtpParsed, error) {
	out := smtpParsed{Files: map[string][]byte{}, Types: map[string]string{}}
	r, err := gomail.CreateReader(strings.NewReader(string(raw)))
	if err != nil {
		return out, err
	}
	defer r.Close()
	out.Header = r.Header
	texts := 0
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, err
		}
		data, err := io.ReadAll(p.Body)
		if err != nil {
			return out, err
		}
		switch h := p.Header.(type) {
		case *gomail.InlineHeader:
			texts++
			out.Text = strings.ReplaceAll(string(data), "\r\n", "\n")
			out.TextCT = h.Get("Content-Type")
			out.TextTE = h.Get("Content-Transfer-Encoding")
		case *gomail.AttachmentHeader:
			name, err := h.Filename()
			if err != nil {
				return out, err
			}
			if _, dup := out.Files[name]; dup {
				return out, fmt.Errorf("two attachments named %q", name)
			}
			out.Files[name] = data
			out.Types[name], _, _ = h.ContentType()
		}
	}
	if texts != 1 {
		return out, fmt.Errorf("%d text parts, want 1", texts)
	}
	return out, nil
}

func TestSMTPDeliverTurkishReplyWithAttachment(t *testing.T) {
	srv := startSMTPTestServer(t, smtpTestServerOptions{})
	desk := newSMTPTestDesk(t)
	_, d := smtpTestThread(t, desk, smtpTestCustomer)
	reg := health.New()
	rec := &smtpRecorder{}
	s := newTestSMTPSender(t, smtpTestOptions(srv, desk, reg, nil, rec))

	if err := s.Deliver(context.Background(), smtpTestRow(t, d)); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	mails := srv.Backend.Mails()
	if len(mails) != 1 {
		t.Fatalf("server got %d mails, want 1", len(mails))
	}
	m := mails[0]
	if !m.TLS || m.User != smtpTestUser || m.From != smtpTestUser || len(m.To) != 1 || m.To[0] != smtpTestCustomer {
		t.Errorf("envelope = tls %v user %q from %q to %q", m.TLS, m.User, m.From, m.To)
	}
	p := parseSMTPMail(t, m.Data)
	h := p.Header

	wantID := "counterdesk." + smtpTestUUID + ".8@" + smtpTestDomain
	if id, err := h.MessageID(); err != nil || id != wantID {
		t.Errorf("Message-ID = %q (%v), want %q", id, err, wantID)
	}
	if irt, err := h.MsgIDList("In-Reply-To"); err != nil || len(irt) != 1 || irt[0] != smtpTestSecondID {
		t.Errorf("In-Reply-To = %q (%v), want %q", irt, err, smtpTestSecondID)
	}
	wantRefs := []string{smtpTestFirstID, "counterdesk." + smtpTestUUID + ".5@" + smtpTestDomain, smtpTestSecondID}
	if refs, err := h.MsgIDList("References"); err != nil || strings.Join(refs, " ") != strings.Join(wantRefs, " ") {
		t.Errorf("References = %q (%v), want %q", refs, err, wantRefs)
	}
	if subj, err := h.Subject(); err != nil || subj != "Re: Pervane kırıldı [#1042]" {
		t.Errorf("Subject = %q (%v)", subj, err)
	}
	if raw := h.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?q?") {
		t.Errorf("raw Subject %q is not RFC 2047 encoded", raw)
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != smtpTestShopName || from[0].Address != smtpTestUser {
		t.Errorf("From = %v (%v)", from, err)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Ayşe Yılmaz" || to[0].Address != smtpTestCustomer {
		t.Errorf("To = %v (%v)", to, err)
	}
	if date, err := h.Date(); err != nil || !date.Equal(smtpTestAt) {
		t.Errorf("Date = %v (%v), want %v", date, err, smtpTestAt)
	}
	if v := h.Get("Auto-Submitted"); v != "no" {
		t.Errorf("Auto-Submitted = %q, want no", v)
	}
	if v := h.Get("MIME-Version"); v != "1.0" {
		t.Errorf("MIME-Version = %q", v)
	}
	if ct, _, _ := h.ContentType(); ct != "multipart/mixed" {
		t.Errorf("Content-Type = %q, want multipart/mixed", ct)
	}
	if p.Text != smtpTestReplyBody {
		t.Errorf("body = %q\nwant %q", p.Text, smtpTestReplyBody)
	}
	if p.TextCT != "text/plain; charset=utf-8" || p.TextTE != "quoted-printable" {
		t.Errorf("text part is %q, %q", p.TextCT, p.TextTE)
	}
	if got := p.Files["sesli-not-çarşamba.wav"]; string(got) != string(smtpTestWav) {
		t.Errorf("attachment = %d bytes %v, want %d bytes; files %v", len(got), got[:min(len(got), 8)], len(smtpTestWav), p.Files)
	}
	if ct := p.Types["sesli-not-çarşamba.wav"]; ct != "audio/wav" {
		t.Errorf("attachment type = %q", ct)
	}
	for i, line := range strings.Split(string(m.Data), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d is %d bytes", i+1, len(line))
		}
	}

	recs := rec.all()
	if len(recs) != 1 || recs[0].Ticket != 1042 || recs[0].Message != 8 || recs[0].State != ticket.DeliverySent || !strings.HasPrefix(recs[0].Detail, "250 ") {
		t.Errorf("recorded %+v, want sent with the server's 250", recs)
	}
	if st := reg.Snapshot()[SMTPHealthName]; st.State != health.OK {
		t.Errorf("health = %+v, want ok", st)
	}
}

func TestSMTPDeliverReplyCodes(t *testing.T) {
	srv := startSMTPTestServer(t, smtpTestServerOptions{})
	cases := []struct {
		to        string
		code      int
		text      string
		atData    bool
		permanent bool
		health    string
	}{
		{"busy@example.net", 421, "Service shutting down, try later", false, false, health.Down},
		{"grey@example.net", 450, "Greylisted, come back in 5 minutes", false, false, health.Degraded},
		{"local@example.net", 451, "Local error in processing", false, false, health.Degraded},
		{"full@example.net", 452, "Insufficient system storage", false, false, health.Degraded},
		{"later@example.net", 451, "Temporary content scan failure", true, false, health.Degraded},
		{"nobody@example.net", 550, "Mailbox unavailable: no such user", false, true, health.OK},
		{"bad@example.net", 553, "Mailbox name not allowed", false, true, health.OK},
		{"denied@example.net", 554, "Transaction failed: recipient blocked", false, true, health.OK},
		{"spam@example.net", 554, "Message rejected as spam", true, true, health.OK},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d %s", c.code, c.to), func(t *testing.T) {
			srv.Backend.answer(c.to, c.code, c.text, c.atData)
			desk := newSMTPTestDesk(t)
			_, d := smtpTestThread(t, desk, c.to)
			reg := health.New()
			rec := &smtpRecorder{}
			s := newTestSMTPSender(t, smtpTestOptions(srv, desk, reg, nil, rec))
			err := s.Deliver(context.Background(), smtpTestRow(t, d))
			if err == nil {
				t.Fatal("Deliver succeeded")
			}
			var perm *ticket.PermanentError
			if errors.As(err, &perm) != c.permanent {
				t.Errorf("permanent = %v, want %v: %v", !c.permanent, c.permanent, err)
			}
			want := fmt.Sprintf("%d %d.0.0 %s", c.code, c.code/100, c.text)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not carry the server's %q", err, want)
			}
			var se *smtp.SMTPError
			if !errors.As(err, &se) || se.Code != c.code {
				t.Errorf("error does not unwrap to the server's %d: %v", c.code, err)
			}
			recs := rec.all()
			if c.permanent {
				if len(recs) != 1 || recs[0].State != ticket.DeliveryFailed || !strings.Contains(recs[0].Detail, want) || recs[0].Message != 8 {
					t.Errorf("recorded %+v, want failed with %q", recs, want)
				}
			} else if len(recs) != 0 {
				t.Errorf("recorded %+v for a temporary failure", recs)
			}
			if st := reg.Snapshot()[SMTPHealthName]; st.State != c.health {
				t.Errorf("health = %+v, want %s", st, c.health)
			}
		})
	}
	if n := len(srv.Backend.Mails()); n != 0 {
		t.Errorf("server took %d mails", n)
	}
}

func TestSMTPLoginRefused(t *testing.T) {
	srv := startSMTPTestServer(t, smtpTestServerOptions{})
	desk := newSMTPTestDesk(t)
	_, d := smtpTestThread(t, desk, smtpTestCustomer)
	reg := health.New()
	rec := &smtpRecorder{}
	logs := &smtpLogBuffer{}
	o := smtpTestOptions(srv, desk, reg, logs, rec)
	o.Password = "Yanlış-Şifre-0000"
	s := newTestSMTPSender(t, o)

	err := s.Deliver(context.Background(), smtpTestRow(t, d))
	if err == nil {
		t.Fatal("Deliver succeeded with a wrong password")
	}
	var perm *ticket.PermanentError
	if errors.As(err, &perm) {
		t.Errorf("a refused login is permanent: %v", err)
	}
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 535 {
		t.Errorf("error does not unwrap to the server's 535: %v", err)
	}
	st := reg.Snapshot()[SMTPHealthName]
	if st.State != health.Down || !strings.Contains(st.Detail, "the mail server refused the login") {
		t.Errorf("health = %+v, want down: the mail server refused the login", st)
	}
	if recs := rec.all(); len(recs) != 0 {
		t.Errorf("recorded %+v", recs)
	}
	if srv.Backend.Logins() != 1 || len(srv.Backend.Mails()) != 0 {
		t.Errorf("logins %d, mails %d", srv.Backend.Logins(), len(srv.Backend.Mails()))
	}
	for _, text := range []string{err.Error(), st.Detail, logs.String()} {
		if strings.Contains(text, o.Password) {
			t.Errorf("the password shows in %q", text)
		}
	}
	if !strings.Contains(logs.String(), "outbound mail is down") {
		t.Errorf("the change to down was not logged:\n%s", logs)
	}

	// The shop fixes the password: the same row goes out, and health
	// is ok again.
	o.Password = smtpTestPassword
	s = newTestSMTPSender(t, o)
	if err := s.Deliver(context.Background(), smtpTestRow(t, d)); err != nil {
		t.Fatalf("Deliver after the fix: %v", err)
	}
	if st := reg.Snapshot()[SMTPHealthName]; st.State != health.OK {
		t.Errorf("health after the fix = %+v", st)
	}
}

func TestSMTPNoLoginWithoutTLS(t *testing.T) {
	srv := startSMTPTestServer(t, smtpTestServerOptions{TLS: SMTPNoTLS, InsecureAuth: true})
	desk := newSMTPTestDesk(t)
	_, d := smtpTestThread(t, desk, smtpTestCustomer)

	for _, mode := range []string{SMTPStartTLS, SMTPImplicitTLS} {
		reg := health.New()
		o := smtpTestOptions(srv, desk, reg, nil, nil)
		o.TLS = mode
		o.Timeout = 2 * time.Second
		err := newTestSMTPSender(t, o).Deliver(context.Background(), smtpTestRow(t, d))
		if err == nil {
			t.Fatalf("tls %s: Deliver succeeded against a server without TLS", mode)
		}
		var perm *ticket.PermanentError
		if errors.As(err, &perm) {
			t.Errorf("tls %s: %v is permanent", mode, err)
		}
		if st := reg.Snapshot()[SMTPHealthName]; st.State != health.Down {
			t.Errorf("tls %s: health = %+v", mode, st)
		}
		if mode == SMTPStartTLS && !strings.Contains(err.Error(), "does not offer STARTTLS") {
			t.Errorf("tls %s: error %q does not say the server lacks STARTTLS", mode, err)
		}
	}
	if n := srv.Backend.Logins(); n != 0 {
		t.Fatalf("the client sent AUTH %d times over plain text", n)
	}

	o := smtpTestOptions(srv, desk, health.New(), nil, nil)
	o.TLS = SMTPNoTLS
	if err := newTestSMTPSender(t, o).Deliver(context.Background(), smtpTestRow(t, d)); err != nil {
		t.Fatalf("tls none: %v", err)
	}
	mails := srv.Backend.Mails()
	if len(mails) != 1 || mails[0].TLS || mails[0].User != smtpTestUser {
		t.Fatalf("mails = %+v", mails)
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	srv := startSMTPTestServer(t, smtpTestServerOptions{TLS: SMTPImplicitTLS})
	desk := newSMTPTestDesk(t)
	_, d := smtpTestThread(t, desk, smtpTestCustomer)
	o := smtpTestOptions(srv, desk, health.New(), nil, nil)
	o.TLS = SMTPImplicitTLS
	if err := newTestSMTPSender(t, o).Deliver(context.Background(), smtpTestRow(t, d)); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if mails := srv.Backend.Mails(); len(mails) != 1 || !mails[0].TLS {
		t.Fatalf("mails = %+v", mails)
	}
}

func TestSMTPSecondDeliverySameMessageID(t *testing.T) {
	srv := startSMTPTestServer(t, smtpTestServerOptions{})
	desk := newSMTPTestDesk(t)
	th, d := smtpTestThread(t, desk, smtpTestCustomer)
	s := newTestSMTPSender(t, smtpTestOptions(srv, desk, health.New(), nil, nil))
	row := smtpTestRow(t, d)
	for range 2 {
		if err := s.Deliver(context.Background(), row); err != nil {
			t.Fatalf("Deliver: %v", err)
		}
	}
	mails := srv.Backend.Mails()
	if len(mails) != 2 {
		t.Fatalf("server got %d mails, want 2", len(mails))
	}
	first, second := parseSMTPMail(t, mails[0].Data), parseSMTPMail(t, mails[1].Data)
	id1, _ := first.Header.MessageID()
	id2, _ := second.Header.MessageID()
	if id1 == "" || id1 != id2 {
		t.Errorf("Message-IDs %q and %q differ", id1, id2)
	}
	if string(mails[0].Data) != string(mails[1].Data) {
		t.Errorf("the second delivery wrote a different mail")
	}

	// Once the message is recorded as sent, a delivery of its row sends
	// nothing.
	th.Messages[3].Delivery = ticket.DeliverySent
	desk.put(th)
	if err := s.Deliver(context.Background(), row); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if n := len(srv.Backend.Mails()); n != 2 {
		t.Errorf("a message recorded as sent went again: %d mails", n)
	}
}

func TestSMTPConnectionFailures(t *testing.T) {
	desk := newSMTPTestDesk(t)
	_, d := smtpTestThread(t, desk, smtpTestCustomer)

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := closed.Addr().String()
	closed.Close()

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accepts and never greets
		}
	}()

	srv := startSMTPTestServer(t, smtpTestServerOptions{})

	cases := []struct {
		name, server string
		trust        bool
		want         string
	}{
		{"refused", refused, true, "cannot reach the mail server"},
		{"silent", silent.Addr().String(), true, "did not answer within"},
		{"untrusted certificate", srv.Addr, false, "certificate the box does not trust"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := health.New()
			o := smtpTestOptions(srv, desk, reg, nil, nil)
			o.Server, o.Timeout = c.server, 300*time.Millisecond
			if !c.trust {
				o.TLSConfig = nil
			}
			start := time.Now()
			err := newTestSMTPSender(t, o).Deliver(context.Background(), smtpTestRow(t, d))
			if err == nil {
				t.Fatal("Deliver succeeded")
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %s with a 300ms timeout", took)
			}
			var perm *ticket.PermanentError
			if errors.As(err, &perm) {
				t.Errorf("%v is permanent", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if st := reg.Snapshot()[SMTPHealthName]; st.State != health.Down || !strings.Contains(st.Detail, c.want) {
				t.Errorf("health = %+v", st)
			}
		})
	}
	if n := srv.Backend.Logins(); n != 0 {
		t.Errorf("the password went to a server whose certificate is untrusted (%d logins)", n)
	}
}

func TestSMTPUnsendable(t *testing.T) {
	srv := startSMTPTestServer(t, smtpTestServerOptions{})
	cases := []struct {
		name   string
		change func(desk *smtpTestDesk, th *ticket.Thread, d *ticket.Delivery, o *SMTPOptions)
		want   string
	}{
		{"not an address", func(_ *smtpTestDesk, _ *ticket.Thread, d *ticket.Delivery, _ *SMTPOptions) {
			d.To = "ayşe at example"
		}, "is not an email address"},
		{"attachments too large", func(_ *smtpTestDesk, _ *ticket.Thread, _ *ticket.Delivery, o *SMTPOptions) {
			o.MaxAttachmentBytes = 100
		}, "max_attachment_bytes"},
		{"file missing", func(desk *smtpTestDesk, th *ticket.Thread, _ *ticket.Delivery, _ *SMTPOptions) {
			os.Remove(filepath.Join(desk.dir, th.Messages[3].Attachments[0].ID))
		}, "missing from the box"},
		{"file damaged", func(desk *smtpTestDesk, th *ticket.Thread, _ *ticket.Delivery, _ *SMTPOptions) {
			os.WriteFile(filepath.Join(desk.dir, th.Messages[3].Attachments[0].ID), []byte("not the wav"), 0o600)
		}, "damaged"},
		{"message gone", func(_ *smtpTestDesk, _ *ticket.Thread, d *ticket.Delivery, _ *SMTPOptions) {
			d.MessageID = 77
		}, "no longer on ticket #1042"},
		{"ticket gone", func(_ *smtpTestDesk, _ *ticket.Thread, d *ticket.Delivery, _ *SMTPOptions) {
			d.Ticket = 5000
		}, "not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			desk := newSMTPTestDesk(t)
			th, d := smtpTestThread(t, desk, smtpTestCustomer)
			rec := &smtpRecorder{}
			o := smtpTestOptions(srv, desk, health.New(), nil, rec)
			c.change(desk, &th, &d, &o)
			err := newTestSMTPSender(t, o).Deliver(context.Background(), smtpTestRow(t, d))
			var perm *ticket.PermanentError
			if !errors.As(err, &perm) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Deliver = %v, want a permanent error saying %q", err, c.want)
			}
			if recs := rec.all(); c.name != "ticket gone" && c.name != "message gone" && (len(recs) != 1 || recs[0].State != ticket.DeliveryFailed || !strings.Contains(recs[0].Detail, c.want)) {
				t.Errorf("recorded %+v", recs)
			}
		})
	}
	if n := len(srv.Backend.Mails()); n != 0 {
		t.Errorf("server took %d mails", n)
	}
}

func TestSMTPSecretsNeverShown(t *testing.T) {
	srv := startSMTPTestServer(t, smtpTestServerOptions{})
	// A careless server that echoes what it was sent in its refusal.
	b64 := base64.StdEncoding.EncodeToString
	wrong := "Yanlış-Şifre-echoed-1234"
	srv.Backend.authText = "Authentication failed for " + wrong + " (" + b64([]byte("\x00"+smtpTestUser+"\x00"+wrong)) + ")"
	srv.Backend.answer("nobody@example.net", 550, "no such user", false)

	desk := newSMTPTestDesk(t)
	logs := &smtpLogBuffer{}
	reg := health.New()
	rec := &smtpRecorder{}
	var texts []string
	run := func(o SMTPOptions, to string) {
		_, d := smtpTestThread(t, desk, to)
		s := newTestSMTPSender(t, o)
		if err := s.Deliver(context.Background(), smtpTestRow(t, d)); err != nil {
			texts = append(texts, err.Error(), fmt.Sprintf("%+v", err))
		}
		if err := s.Check(context.Background()); err != nil {
			texts = append(texts, err.Error())
		}
	}
	base := smtpTestOptions(srv, desk, reg, logs, rec)
	run(base, smtpTestCustomer)
	run(base, "nobody@example.net")
	bad := base
	bad.Password = wrong
	run(bad, smtpTestCustomer)
	off := base
	off.Server = "127.0.0.1:1"
	run(off, smtpTestCustomer)
	untrusted := base
	untrusted.TLSConfig = nil
	run(untrusted, smtpTestCustomer)

	texts = append(texts, logs.String(), fmt.Sprint(base), fmt.Sprintf("%v %+v %#v %s", base, base, base, base))
	logs.Logger().Info("options", "smtp", base)
	texts = append(texts, logs.String())
	for _, st := range reg.Snapshot() {
		texts = append(texts, st.Detail, st.LastError)
	}
	for _, r := range rec.all() {
		texts = append(texts, r.Detail)
	}
	secrets := []string{
		smtpTestPassword, wrong,
		b64([]byte("\x00" + smtpTestUser + "\x00" + smtpTestPassword)),
		b64([]byte("\x00" + smtpTestUser + "\x00" + wrong)),
	}
	for _, text := range texts {
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("secret %q shows in:\n%s", secret, text)
			}
		}
	}
	if !smtpContains(texts, "[redacted]") {
		t.Errorf("the echoing server's refusal was not redacted: %q", texts)
	}
	if len(srv.Backend.Mails()) != 1 {
		t.Errorf("server took %d mails, want 1", len(srv.Backend.Mails()))
	}
}

func TestSMTPCheck(t *testing.T) {
	srv := startSMTPTestServer(t, smtpTestServerOptions{})
	desk := newSMTPTestDesk(t)
	reg := health.New()
	o := smtpTestOptions(srv, desk, reg, nil, nil)
	if err := newTestSMTPSender(t, o).Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if st := reg.Snapshot()[SMTPHealthName]; st.State != health.OK {
		t.Errorf("health = %+v", st)
	}
	o.Password = "wrong-password"
	if err := newTestSMTPSender(t, o).Check(context.Background()); err == nil {
		t.Fatal("Check with a wrong password succeeded")
	}
	if st := reg.Snapshot()[SMTPHealthName]; st.State != health.Down || !strings.Contains(st.Detail, "the mail server refused the login") {
		t.Errorf("health = %+v", st)
	}
}

// smtpTestXOAuth2 is the server side of XOAUTH2 for the test server: it
// takes one token, and answers any other with the JSON challenge and then
// 535, as Gmail does.
type smtpTestXOAuth2 struct {
	user, token string
	failed      bool
}

func (s *smtpTestXOAuth2) Next(response []byte) ([]byte, bool, error) {
	if s.failed {
		return nil, true, &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Username and Password not accepted"}
	}
	if string(response) == "user="+s.user+"\x01auth=Bearer "+s.token+"\x01\x01" {
		return nil, true, nil
	}
	s.failed = true
	return []byte(`{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}`), false, nil
}

type smtpXOAuth2Session struct {
	smtpTestSession
	token string
}

func (s *smtpXOAuth2Session) AuthMechanisms() []string { return []string{"XOAUTH2"} }
func (s *smtpXOAuth2Session) Auth(mech string) (sasl.Server, error) {
	s.b.mu.Lock()
	s.b.logins++
	s.b.mu.Unlock()
	s.user = smtpTestUser
	return &smtpTestXOAuth2{user: smtpTestUser, token: s.token}, nil
}

func TestSMTPXOAuth2(t *testing.T) {
	cert, pool := smtpTestCertificate(t)
	be := &smtpTestBackend{}
	const token = "ya29.a0AfB_byC-token-0123456789"
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &smtpXOAuth2Session{smtpTestSession: smtpTestSession{b: be, tls: isTLS}, token: token}, nil
	}))
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.Domain = "mx.test.example"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	test := &smtpTestServer{Addr: ln.Addr().String(), Backend: be, Client: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}

	desk := newSMTPTestDesk(t)
	_, d := smtpTestThread(t, desk, smtpTestCustomer)
	logs := &smtpLogBuffer{}
	for _, c := range []struct {
		token string
		ok    bool
	}{{"expired-token-abcdef", false}, {token, true}} {
		reg := health.New()
		o := smtpTestOptions(test, desk, reg, logs, nil)
		o.Password, o.Auth = "", ""
		tok := c.token
		o.TokenFunc = func(context.Context) (string, error) { return tok, nil }
		err := newTestSMTPSender(t, o).Deliver(context.Background(), smtpTestRow(t, d))
		if c.ok != (err == nil) {
			t.Fatalf("token %q: Deliver = %v", c.token, err)
		}
		if !c.ok {
			if st := reg.Snapshot()[SMTPHealthName]; st.State != health.Down || !strings.Contains(st.Detail, "the mail server refused the login") {
				t.Errorf("health = %+v", st)
			}
			if strings.Contains(err.Error(), c.token) {
				t.Errorf("the token shows in %q", err)
			}
		}
	}
	if strings.Contains(logs.String(), token) || strings.Contains(logs.String(), "expired-token-abcdef") {
		t.Errorf("a token shows in the log:\n%s", logs)
	}
	if n := len(be.Mails()); n != 1 {
		t.Errorf("server took %d mails, want 1", n)
	}
}

func TestNewSMTPSenderOptions(t *testing.T) {
	desk := newSMTPTestDesk(t)
	ok := SMTPOptions{Server: "smtp.example.com:587", From: "shop@example.com", Password: "pw-123456", Desk: desk}
	cases := []struct {
		name   string
		change func(o *SMTPOptions)
		want   string
	}{
		{"no desk", func(o *SMTPOptions) { o.Desk = nil }, "no desk"},
		{"no port", func(o *SMTPOptions) { o.Server = "smtp.example.com" }, "host:port"},
		{"bad port", func(o *SMTPOptions) { o.Server = "smtp.example.com:smtp" }, "no valid port"},
		{"bad tls", func(o *SMTPOptions) { o.TLS = "ssl" }, "tls \"ssl\""},
		{"bad from", func(o *SMTPOptions) { o.From = "Shop <shop@example.com>" }, "from"},
		{"bad domain", func(o *SMTPOptions) { o.Domain = "shop example" }, "domain"},
		{"bad auth", func(o *SMTPOptions) { o.Auth = "cram-md5" }, "auth \"cram-md5\""},
		{"login without password", func(o *SMTPOptions) { o.Auth, o.Password = SMTPAuthLogin, "" }, "needs a password"},
		{"xoauth2 without token", func(o *SMTPOptions) { o.Auth = SMTPAuthXOAuth2 }, "needs an OAuth2 token"},
	}
	for _, c := range cases {
		o := ok
		c.change(&o)
		_, err := NewSMTPSender(o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), ok.Password) {
			t.Errorf("%s: the password shows in %q", c.name, err)
		}
	}
	s, err := NewSMTPSender(ok)
	if err != nil {
		t.Fatal(err)
	}
	if s.opts.TLS != SMTPStartTLS || s.opts.Auth != SMTPAuthPlain || s.opts.Username != "shop@example.com" ||
		s.opts.Domain != DefaultSMTPDomain || s.opts.Timeout != DefaultSMTPTimeout || s.opts.MaxAttachmentBytes != DefaultSMTPMaxAttachmentBytes {
		t.Errorf("defaults = %v tls %s auth %s domain %s timeout %s max %d", s.opts, s.opts.TLS, s.opts.Auth, s.opts.Domain, s.opts.Timeout, s.opts.MaxAttachmentBytes)
	}
}

func TestSMTPMailTooLargeForServer(t *testing.T) {
	srv := startSMTPTestServer(t, smtpTestServerOptions{MaxBytes: 1000})
	desk := newSMTPTestDesk(t)
	_, d := smtpTestThread(t, desk, smtpTestCustomer)
	rec := &smtpRecorder{}
	reg := health.New()
	err := newTestSMTPSender(t, smtpTestOptions(srv, desk, reg, nil, rec)).Deliver(context.Background(), smtpTestRow(t, d))
	var perm *ticket.PermanentError
	if !errors.As(err, &perm) || !strings.Contains(err.Error(), "takes at most 1000") {
		t.Fatalf("Deliver = %v, want a permanent error naming the server's limit", err)
	}
	if recs := rec.all(); len(recs) != 1 || recs[0].State != ticket.DeliveryFailed {
		t.Errorf("recorded %+v", recs)
	}
	if st := reg.Snapshot()[SMTPHealthName]; st.State != health.OK {
		t.Errorf("health = %+v", st)
	}
}

func TestSMTPFollowsMerge(t *testing.T) {
	srv := startSMTPTestServer(t, smtpTestServerOptions{})
	desk := newSMTPTestDesk(t)
	th, d := smtpTestThread(t, desk, smtpTestCustomer)
	// #1042 was merged into #1050 after the reply was queued: its
	// messages live on #1050 now.
	into := th
	into.Ticket.Number, into.Ticket.UUID = 1050, "0b9e6f7a-1111-4222-8333-944455556666"
	desk.put(into)
	desk.put(ticket.Thread{Ticket: ticket.Ticket{Number: 1042, UUID: smtpTestUUID, MergedInto: 1050}})
	rec := &smtpRecorder{}
	if err := newTestSMTPSender(t, smtpTestOptions(srv, desk, health.New(), nil, rec)).Deliver(context.Background(), smtpTestRow(t, d)); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	mails := srv.Backend.Mails()
	if len(mails) != 1 {
		t.Fatalf("server got %d mails", len(mails))
	}
	p := parseSMTPMail(t, mails[0].Data)
	if id, _ := p.Header.MessageID(); id != SMTPMessageID(into.Ticket.UUID, 8, smtpTestDomain) {
		t.Errorf("Message-ID = %q", id)
	}
	if recs := rec.all(); len(recs) != 1 || recs[0].Ticket != 1050 || recs[0].State != ticket.DeliverySent {
		t.Errorf("recorded %+v, want sent on #1050", recs)
	}
}
