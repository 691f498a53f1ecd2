package mail

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/counterdesk/counterdesk/ticket"
)

func TestSendStaffToSeveralAddresses(t *testing.T) {
	srv := startSMTPTestServer(t, smtpTestServerOptions{})
	s := newTestSMTPSender(t, smtpTestOptions(srv, newSMTPTestDesk(t), nil, nil, nil))
	row := ticket.OutboxRow{ID: 7, Kind: ticket.KindNotifyStaff, Key: "redirect:1042:workshop"}
	m := StaffMessage{
		To:      []string{"workshop@kuscu-model.example", "Owner <sahip@kuscu-model.example>"},
		Subject: "[Kuşçu Model] For workshop: #1042 Kırık kanat\r\nBcc: evil@example.net",
		Body:    "Ticket #1042: Kırık kanat\n\n> the customer's text\n",
		Key:     "notify.staff:redirect:1042:workshop",
	}
	for range 2 {
		if err := s.SendStaff(context.Background(), row, m); err != nil {
			t.Fatalf("SendStaff: %v", err)
		}
	}
	mails := srv.Backend.Mails()
	if len(mails) != 2 {
		t.Fatalf("server took %d mails, want 2", len(mails))
	}
	got := mails[0]
	if strings.Join(got.To, " ") != "workshop@kuscu-model.example sahip@kuscu-model.example" {
		t.Errorf("envelope recipients = %v", got.To)
	}
	p := parseSMTPMail(t, got.Data)
	subject, _ := p.Header.Subject()
	if subject != "[Kuşçu Model] For workshop: #1042 Kırık kanat Bcc: evil@example.net" {
		t.Errorf("subject = %q: a line break in it must not start a field", subject)
	}
	if p.Header.Get("Bcc") != "" {
		t.Error("the subject's line break made a Bcc field")
	}
	if v := p.Header.Get("Auto-Submitted"); v != "auto-generated" {
		t.Errorf("Auto-Submitted = %q, want auto-generated (RFC 3834), so no auto-reply answers it", v)
	}
	if v := p.Header.Get("X-Auto-Response-Suppress"); v != "All" {
		t.Errorf("X-Auto-Response-Suppress = %q", v)
	}
	if p.Text != m.Body {
		t.Errorf("text = %q, want %q", p.Text, m.Body)
	}
	p1, p2 := parseSMTPMail(t, mails[0].Data), parseSMTPMail(t, mails[1].Data)
	id1, _ := p1.Header.MessageID()
	id2, _ := p2.Header.MessageID()
	if id1 == "" || id1 != id2 || !strings.HasPrefix(id1, "counterdesk.staff.") {
		t.Errorf("Message-IDs %q and %q: the same staff mail must keep its id", id1, id2)
	}
	if _, ok := imapBoxUUID(id1); ok {
		t.Errorf("a staff mail's id %q reads as a ticket's: an answer to it would thread onto a ticket", id1)
	}
}

func TestSendStaffRefusals(t *testing.T) {
	srv := startSMTPTestServer(t, smtpTestServerOptions{})
	s := newTestSMTPSender(t, smtpTestOptions(srv, newSMTPTestDesk(t), nil, nil, nil))
	row := ticket.OutboxRow{ID: 8, Kind: ticket.KindNotifyStaff, Key: "k"}
	var perm *ticket.PermanentError
	for _, to := range [][]string{nil, {"not an address"}} {
		err := s.SendStaff(context.Background(), row, StaffMessage{To: to, Subject: "x", Body: "y", Key: "k"})
		if !errors.As(err, &perm) {
			t.Errorf("to %q: err = %v, want a permanent error", to, err)
		}
	}
	srv.Backend.answer("gone@kuscu-model.example", 550, "No such user", false)
	err := s.SendStaff(context.Background(), row, StaffMessage{To: []string{"owner@kuscu-model.example", "gone@kuscu-model.example"}, Subject: "x", Body: "y", Key: "k"})
	if !errors.As(err, &perm) || !strings.Contains(err.Error(), "No such user") {
		t.Errorf("a refused staff address: %v, want a permanent error with the server's text", err)
	}
	srv.Backend.answer("later@kuscu-model.example", 451, "Try later", false)
	err = s.SendStaff(context.Background(), row, StaffMessage{To: []string{"later@kuscu-model.example"}, Subject: "x", Body: "y", Key: "k"})
	if err == nil || errors.As(err, &perm) {
		t.Errorf("a 451: %v, want an error to retry", err)
	}
	if n := len(srv.Backend.Mails()); n != 0 {
		t.Errorf("server took %d mails", n)
	}
}
