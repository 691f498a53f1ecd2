package mail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
)

// StaffMessage is a mail to the shop's staff: an urgent ticket, a ticket a
// redirection rule sends them, the daily digest. The notify package writes
// it; SendStaff sends it.
type StaffMessage struct {
	To      []string
	Subject string
	Body    string
	// Key names the mail: the same key gives the same Message-ID, so a
	// mail sent twice after a lost answer is recognised as one.
	Key string
}

// smtpMaxStaffRcpts bounds the addresses of one staff mail.
const smtpMaxStaffRcpts = 50

// SendStaff sends a staff mail for outbox row row. Its errors are those of
// Deliver: a ticket.PermanentError when the mail can never go (a refused
// address), a plain error to be retried otherwise; a server that cannot
// be reached gives the row back as Deliver does. The mail is marked
// Auto-Submitted: auto-generated (RFC 3834), and asks Exchange not to
// answer it with out-of-office notes, so that no staff mailbox's
// auto-reply comes back to the support mailbox.
func (s *SMTPSender) SendStaff(ctx context.Context, row ticket.OutboxRow, m StaffMessage) error {
	c, err := s.composeStaff(m, time.Now())
	if err != nil {
		return ticket.Permanent(fmt.Errorf("smtp: staff mail (outbox row %d): %w", row.ID, err))
	}
	reply, err := s.send(ctx, c)
	s.releaseIfDown(row, err)
	if err != nil {
		return fmt.Errorf("smtp: staff mail (outbox row %d) to %s: %w", row.ID, strings.Join(m.To, ", "), err)
	}
	s.log.Debug("staff mail sent", "row", row.ID, "kind", row.Kind, "to", len(m.To), "message_id", c.MessageID, "reply", reply)
	return nil
}

// composeStaff writes a staff mail.
func (s *SMTPSender) composeStaff(m StaffMessage, now time.Time) (smtpComposed, error) {
	var out smtpComposed
	if len(m.To) == 0 || len(m.To) > smtpMaxStaffRcpts {
		return out, fmt.Errorf("a staff mail goes to 1 to %d addresses, not %d", smtpMaxStaffRcpts, len(m.To))
	}
	var shown []string
	for i, a := range m.To {
		addr, err := mail.ParseAddress(a)
		if err != nil || addr.Address == "" || smtpHasControl(addr.Address) {
			return out, fmt.Errorf("%q is not an email address the mail can go to", a)
		}
		if i == 0 {
			out.To = addr.Address
		} else {
			out.Also = append(out.Also, addr.Address)
		}
		shown = append(shown, smtpAddress("", addr.Address))
	}
	sum := sha256.Sum256([]byte(m.Key))
	out.MessageID = "counterdesk.staff." + hex.EncodeToString(sum[:12]) + "@" + s.opts.Domain
	subject := smtpTruncate(smtpCleanText(strings.Join(strings.Fields(m.Subject), " ")), 250)
	fields := [][2]string{
		{"From", smtpAddress(s.opts.FromName, s.opts.From)},
		{"To", strings.Join(shown, ", ")},
		{"Subject", smtpEncodeText(subject)},
		{"Date", now.In(s.opts.Location).Format("Mon, 02 Jan 2006 15:04:05 -0700")},
		{"Message-ID", "<" + out.MessageID + ">"},
		{"Auto-Submitted", "auto-generated"},
		{"X-Auto-Response-Suppress", "All"},
	}
	var buf bytes.Buffer
	if err := smtpWriteMIME(&buf, fields, smtpBodyText(m.Body), nil, out.MessageID); err != nil {
		return out, fmt.Errorf("compose staff mail: %w", err)
	}
	out.Raw = buf.Bytes()
	return out, nil
}
