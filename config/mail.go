package config

import (
	"net"
	"strings"
	"time"
)

// Mail configures the support mailbox: requests read over IMAP, replies
// and notifications sent over SMTP.
type Mail struct {
	// IMAPServer is the mailbox's server as host:port, such as
	// "imap.gmail.com:993"; "" reads no mailbox.
	IMAPServer string `toml:"imap_server"`
	// IMAPTLS is "tls" (port 993) or "starttls" (port 143).
	IMAPTLS string `toml:"imap_tls"`
	// IMAPAuth is "plain" (user name and password) or "xoauth2" (an OAuth2
	// access token in the password's place).
	IMAPAuth     string `toml:"imap_auth"`
	IMAPUsername string `toml:"imap_username"`
	// IMAPPassword is better given as the systemd credential
	// mail-imap-password.
	IMAPPassword string `toml:"imap_password"`
	// Mailbox is the folder read; ProcessedFolder, when set, is where a
	// mail goes once it is a ticket (otherwise it is marked seen).
	Mailbox         string `toml:"mailbox"`
	ProcessedFolder string `toml:"processed_folder"`
	// PollInterval is how often the mailbox is looked at when the server
	// cannot tell the box of new mail at once (IMAP IDLE).
	PollInterval Duration `toml:"poll_interval"`

	// SMTPServer is the server replies go out through, as host:port, such
	// as "smtp.gmail.com:587"; "" sends no mail.
	SMTPServer string `toml:"smtp_server"`
	// SMTPTLS is "starttls" (port 587) or "tls" (port 465).
	SMTPTLS string `toml:"smtp_tls"`
	// SMTPAuth is "plain", "login", "xoauth2" or "none".
	SMTPAuth     string `toml:"smtp_auth"`
	SMTPUsername string `toml:"smtp_username"`
	// SMTPPassword is better given as the systemd credential
	// mail-smtp-password.
	SMTPPassword string `toml:"smtp_password"`
	// From is the address replies come from; the shop's name is shown
	// with it.
	From string `toml:"from"`
	// Domain names the box in the Message-IDs of its mails.
	Domain string `toml:"domain"`
}

func defaultMail() Mail {
	return Mail{
		IMAPTLS:      "tls",
		IMAPAuth:     "plain",
		Mailbox:      "INBOX",
		PollInterval: Duration{time.Minute},
		SMTPTLS:      "starttls",
		SMTPAuth:     "plain",
		Domain:       "counterdesk.invalid",
	}
}

// mail checks the [mail] table.
func (v *validator) mail(m Mail) {
	hostPort := func(key, value, example string) {
		_, port, err := net.SplitHostPort(value)
		v.check(key, value == "" || err == nil && port != "", `must be "" or host:port such as %q, not %q`, example, value)
	}
	hostPort("mail.imap_server", m.IMAPServer, "imap.example.com:993")
	hostPort("mail.smtp_server", m.SMTPServer, "smtp.example.com:587")
	v.oneOf("mail.imap_tls", m.IMAPTLS, "tls", "starttls")
	v.oneOf("mail.imap_auth", m.IMAPAuth, "plain", "xoauth2")
	v.oneOf("mail.smtp_tls", m.SMTPTLS, "starttls", "tls")
	v.oneOf("mail.smtp_auth", m.SMTPAuth, "plain", "login", "xoauth2", "none")
	if m.IMAPServer != "" {
		v.check("mail.imap_username", m.IMAPUsername != "", "must name the mailbox's user when imap_server is set")
		v.check("mail.mailbox", m.Mailbox != "", "must not be empty")
		v.check("mail.processed_folder", !strings.EqualFold(m.ProcessedFolder, m.Mailbox), "must differ from mailbox (%q)", m.Mailbox)
	}
	between(v, "mail.poll_interval", m.PollInterval.Duration, 10*time.Second, time.Hour)
	if m.SMTPServer != "" {
		v.check("mail.from", strings.Contains(m.From, "@"), "must be the address replies come from when smtp_server is set, not %q", m.From)
		v.check("mail.smtp_username", m.SMTPAuth == "none" || m.SMTPUsername != "", "must name the user when smtp_auth is not \"none\"")
	}
	v.check("mail.domain", m.Domain != "" && !strings.ContainsAny(m.Domain, " <>@"), "must be a domain name such as \"shop.example\", not %q", m.Domain)
}
