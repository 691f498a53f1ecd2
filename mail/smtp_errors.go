package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/emersion/go-smtp"
)

// Errors of the SMTP sender's own checks.
var (
	// errSMTPNoTLS means the connection was not encrypted, so the login
	// was not sent.
	errSMTPNoTLS = errors.New("the connection is not encrypted, so the login was not sent")
	// errSMTPNoAuth means the server offers no login (no AUTH extension).
	errSMTPNoAuth = errors.New("the mail server offers no login (AUTH)")
	// errSMTPMechanism means the server does not offer the configured
	// login mechanism.
	errSMTPMechanism = errors.New("the mail server does not offer the configured login mechanism")
	// errSMTPToken means TokenFunc gave no OAuth2 token.
	errSMTPToken = errors.New("could not get the OAuth2 token")
)

// smtpFailure is a failed step of an SMTP conversation, its text free of
// secrets. Unwrap gives the cause, such as the server's *smtp.SMTPError.
type smtpFailure struct {
	msg string
	err error
	// down is set when the server could not be asked about the mail at
	// all (unreachable, login refused, no TLS): the mail itself is not
	// at fault.
	down bool
}

func (e *smtpFailure) Error() string { return e.msg }
func (e *smtpFailure) Unwrap() error { return e.err }

// failure classifies the error of one step of the conversation ("connect",
// "starttls", "hello", "login", "sender", "recipient", "data", "quit"),
// reports the health it shows, and returns what Deliver returns:
//
//   - a 5xx reply to the recipient or to the message (550 mailbox
//     unavailable, 553 bad address, 554 rejected, 552 too large) is
//     permanent (RFC 5321 section 4.2.1): a ticket.PermanentError with the
//     server's text, and the server counts as working;
//   - a refused login (535, or any 5xx to AUTH) marks the health down with
//     "the mail server refused the login" and is temporary, so nothing is
//     parked while the shop fixes the password;
//   - a 5xx to the shop's own sender address is a configuration problem,
//     temporary and down, for the same reason;
//   - 4xx replies (421, 450, 451, 452), refused connections, TLS problems
//     and timeouts are temporary, for the outbox to retry with backoff.
func (s *SMTPSender) failure(ctx context.Context, step string, err error) error {
	server := s.opts.Server
	if errors.Is(ctx.Err(), context.Canceled) {
		return &smtpFailure{msg: step + ": " + ctx.Err().Error(), err: ctx.Err()}
	}
	down := func(detail string) error {
		detail = s.redact(detail)
		s.report(health.Down, detail)
		return &smtpFailure{msg: detail, err: err, down: true}
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		reply := s.redact(smtpReplyText(se))
		switch {
		case step == "login" && se.Code/100 == 5:
			return down(fmt.Sprintf("the mail server refused the login as %s (%s): check the user name and password in [mail]", s.opts.Username, reply))
		case se.Code == 421:
			return down(fmt.Sprintf("the mail server %s is not taking mail now (%s)", server, reply))
		case se.Code/100 == 4 && (step == "recipient" || step == "data" || step == "sender"):
			detail := fmt.Sprintf("the mail server %s deferred a mail (%s); it is tried again later", server, reply)
			s.report(health.Degraded, detail)
			return &smtpFailure{msg: detail, err: err}
		case se.Code/100 == 4:
			return down(fmt.Sprintf("the mail server %s could not take mail just now (%s)", server, reply))
		case step == "recipient" || step == "data" || (step == "sender" && se.Code == 552):
			s.report(health.OK, "sending mail through "+server)
			return ticket.Permanent(&smtpFailure{msg: fmt.Sprintf("the mail server %s refused the mail: %s", server, reply), err: err})
		case step == "sender":
			return down(fmt.Sprintf("the mail server %s refused the shop's address %s as sender (%s): check from in [mail]", server, s.opts.From, reply))
		default:
			return down(fmt.Sprintf("the mail server %s refused the connection (%s)", server, reply))
		}
	}
	var verr *tls.CertificateVerificationError
	var nerr net.Error
	var oerr *net.OpError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()):
		return down(fmt.Sprintf("the mail server %s did not answer within %s (at %s)", server, s.opts.Timeout, step))
	case errors.Is(err, errSMTPNoTLS):
		return down(fmt.Sprintf("the connection to the mail server %s is not encrypted, so the login was not sent", server))
	case step == "starttls" && strings.Contains(err.Error(), "STARTTLS"):
		return down(fmt.Sprintf("the mail server %s does not offer STARTTLS, so the box sent nothing over the unencrypted connection (for port 465 set tls = \"tls\")", server))
	case errors.As(err, &verr):
		return down(fmt.Sprintf("the mail server %s showed a certificate the box does not trust: %v", server, verr.Err))
	case errors.Is(err, errSMTPNoAuth) || errors.Is(err, errSMTPMechanism) || errors.Is(err, errSMTPToken):
		return down(fmt.Sprintf("cannot log in to the mail server %s: %v", server, err))
	case step == "connect" && errors.As(err, &oerr):
		return down(fmt.Sprintf("cannot reach the mail server %s: %v", server, smtpCause(oerr)))
	}
	return down(fmt.Sprintf("the conversation with the mail server %s failed (%s): %v", server, step, err))
}

// smtpReplyText writes a server's reply as it came: code, enhanced code
// (RFC 3463) and text, on one line.
func smtpReplyText(e *smtp.SMTPError) string {
	text := smtpOneLine(e.Message)
	if c := e.EnhancedCode; c[0] > 0 {
		return fmt.Sprintf("%d %d.%d.%d %s", e.Code, c[0], c[1], c[2], text)
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", e.Code, text))
}

// smtpCause returns the innermost error of a network error ("connection
// refused", "no such host") without the addresses around it.
func smtpCause(err *net.OpError) error {
	inner := err.Err
	for {
		next := errors.Unwrap(inner)
		if next == nil {
			return inner
		}
		inner = next
	}
}
