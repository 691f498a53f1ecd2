package main

import (
	"strings"

	"github.com/counterdesk/counterdesk/config"
	notices "github.com/counterdesk/counterdesk/notify"
	"github.com/counterdesk/counterdesk/triage"
)

// customerNotices returns the customer notifications of cfg's [notify]
// table. (The package is imported as notices: notify names systemd's
// readiness protocol in this command.)
func customerNotices(cfg config.Config, rules *triage.Engine) *notices.Notifier {
	var own []string
	if n := cfg.Modem.OwnNumber; n != "" {
		if !strings.HasPrefix(n, "+") {
			n = "+" + n
		}
		own = append(own, n)
	}
	return notices.New(notices.Options{Config: cfg.Notify, Shop: cfg.Shop.Name, Hours: rules.HoursText(), OwnNumbers: own, Location: cfg.Location()})
}

// staffMail reports whether staff get mails: some staff address or
// redirection rule is configured, and a mail server to send them through.
func staffMail(cfg config.Config) bool {
	return cfg.Notify.StaffMail() && cfg.Mail.SMTPServer != ""
}
