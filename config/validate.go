package config

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate checks every setting against its allowed range. It returns nil, or
// a [*Problems] error that names each invalid setting by its dotted key.
func (c Config) Validate() error {
	if list := c.validate(); len(list) > 0 {
		return &Problems{List: list}
	}
	return nil
}

// validate returns a problem for each invalid setting, with Key set and Line
// 0.
func (c Config) validate() []Problem {
	var v validator

	v.check("shop.name", c.Shop.Name != "", "must not be empty")
	v.timeZone("shop.time_zone", c.Shop.TimeZone)
	v.check("shop.default_region", isRegion(c.Shop.DefaultRegion),
		"must be two capital letters (an ISO 3166-1 alpha-2 code such as \"GB\"), not %q", c.Shop.DefaultRegion)

	v.check("store.data_dir", c.Store.DataDir != "", "must not be empty")
	v.check("store.thread_window", c.Store.ThreadWindow.Duration > 0, "must be more than 0s, not %v", c.Store.ThreadWindow)
	between(&v, "store.max_message_bytes", c.Store.MaxMessageBytes, 1, 1<<20)
	between(&v, "store.max_attachment_bytes", c.Store.MaxAttachmentBytes, 1, 1<<30)
	between(&v, "store.max_attachments", c.Store.MaxAttachments, 1, 1000)
	between(&v, "store.feed_buffer", c.Store.FeedBuffer, 1, 100000)
	between(&v, "store.batch_delay", c.Store.BatchDelay.Duration, 0, time.Second)

	between(&v, "outbox.max_attempts", c.Outbox.MaxAttempts, 1, 1000)
	between(&v, "outbox.lease", c.Outbox.Lease.Duration, time.Second, time.Hour)
	v.check("outbox.backoff_base", c.Outbox.BackoffBase.Duration > 0, "must be more than 0s, not %v", c.Outbox.BackoffBase)
	v.check("outbox.backoff_max", c.Outbox.BackoffMax.Duration >= c.Outbox.BackoffBase.Duration,
		"must not be less than outbox.backoff_base (%v), not %v", c.Outbox.BackoffBase, c.Outbox.BackoffMax)
	between(&v, "outbox.max_pending", c.Outbox.MaxPending, 1, 10000000)

	v.listen("http.listen", c.HTTP.Listen)
	between(&v, "http.max_body_bytes", c.HTTP.MaxBodyBytes, 1024, 1<<30)
	v.check("http.read_timeout", c.HTTP.ReadTimeout.Duration > 0, "must be more than 0s, not %v", c.HTTP.ReadTimeout)
	v.check("http.write_timeout", c.HTTP.WriteTimeout.Duration > 0, "must be more than 0s, not %v", c.HTTP.WriteTimeout)
	v.oneOf("http.tls", c.HTTP.TLS, "off", "self-signed", "files")
	if c.HTTP.TLS == "files" {
		v.check("http.cert_file", c.HTTP.CertFile != "", `must name the certificate's PEM file when tls is "files"`)
		v.check("http.key_file", c.HTTP.KeyFile != "", `must name the private key's PEM file when tls is "files"`)
	}

	v.check("modem.device", c.Modem.Device == "auto" || c.Modem.Device == "off" || strings.HasPrefix(c.Modem.Device, "/"),
		`must be "auto", "off" or the path of a serial port such as "/dev/ttyUSB2", not %q`, c.Modem.Device)
	v.check("modem.baud", slices.Contains([]int{9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600}, c.Modem.Baud),
		"must be a standard serial speed such as 115200, not %d", c.Modem.Baud)
	v.check("modem.pin", c.Modem.PIN == "" || isDigits(c.Modem.PIN, 4, 8), "must be empty or 4 to 8 digits")
	v.oneOf("modem.storage", c.Modem.Storage, "SM", "ME", "MT")
	v.check("modem.own_number", c.Modem.OwnNumber == "" || isDigits(strings.TrimPrefix(c.Modem.OwnNumber, "+"), 3, 15),
		"must be empty or a phone number such as \"+447700900123\", not %q", c.Modem.OwnNumber)
	between(&v, "modem.reject_calls_after_rings", c.Modem.RejectCallsAfterRings, 0, 30)
	between(&v, "modem.send_rate_per_minute", c.Modem.SendRatePerMinute, 1, 60)
	between(&v, "modem.parts_max_age", c.Modem.PartsMaxAge.Duration, time.Minute, 7*24*time.Hour)
	v.oneOf("modem.national_language", c.Modem.NationalLanguage, "", "turkish", "spanish", "portuguese")

	v.check("backup.dir", c.Backup.Dir == "" || filepath.IsAbs(c.Backup.Dir),
		`must be "" or an absolute path such as "/media/backup", not %q`, c.Backup.Dir)
	v.timeOfDay("backup.at", c.Backup.At, "03:00")
	between(&v, "backup.keep", c.Backup.Keep, 1, 365)
	v.sync(c.Sync)
	v.notify(c.Notify)
	categories := make([]string, 0, len(c.Triage.Categories))
	for _, cat := range c.Triage.Categories {
		categories = append(categories, cat.Name)
	}
	v.staffNotify(c.Notify, categories)
	v.check("notify.staff_emails", !c.Notify.StaffMail() || c.Mail.SMTPServer != "",
		"staff mails (staff_emails, [[notify.redirect]]) go out through [mail] smtp_server, which is not set")
	v.mail(c.Mail)
	between(&v, "counter.max_photo_bytes", c.Counter.MaxPhotoBytes, 1024, 25<<20)
	between(&v, "counter.min_fill", c.Counter.MinFill.Duration, time.Second, time.Minute)
	between(&v, "counter.rate_per_hour", c.Counter.RatePerHour, 1, 10000)
	between(&v, "counter.login_max_failures", c.Counter.LoginMaxFailures, 1, 100)
	between(&v, "counter.login_lockout", c.Counter.LoginLockout.Duration, time.Minute, 24*time.Hour)

	between(&v, "store.min_free_bytes", c.Store.MinFreeBytes, 0, 100<<30)
	v.oneOf("store.clock", c.Store.Clock, "auto", "trust")

	v.sip(c.SIP)

	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "text", "json")

	v.hours(c.Hours)
	v.triage(c.Triage)
	v.sla(c.SLA)
	v.automations(c)

	return v.list
}

// validator collects the problems of a configuration.
type validator struct {
	list []Problem
}

// check adds a problem for key unless ok.
func (v *validator) check(key string, ok bool, format string, args ...any) {
	if !ok {
		v.list = append(v.list, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
	}
}

// between checks that lo <= x <= hi.
func between[T int | int64 | time.Duration](v *validator, key string, x, lo, hi T) {
	v.check(key, lo <= x && x <= hi, "must be from %v to %v, not %v", show(lo), show(hi), show(x))
}

// show returns x for formatting, with durations written as in the file.
func show[T int | int64 | time.Duration](x T) any {
	if d, ok := any(x).(time.Duration); ok {
		return Duration{d}
	}
	return x
}

// oneOf checks that s is one of allowed.
func (v *validator) oneOf(key, s string, allowed ...string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = strconv.Quote(a)
	}
	v.check(key, false, "must be one of %s, not %q", strings.Join(quoted, ", "), s)
}

// timeZone checks that name is a time zone that loads.
func (v *validator) timeZone(key, name string) {
	if name == "" {
		v.check(key, false, "must not be empty; use \"UTC\" or a zone such as \"Europe/London\"")
		return
	}
	_, err := time.LoadLocation(name)
	v.check(key, err == nil, "unknown time zone %q; use \"UTC\" or a zone such as \"Europe/London\"", name)
}

// listen checks that addr is host:port with a numeric port.
func (v *validator) listen(key, addr string) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.check(key, false, "must be host:port, such as \":8080\" or \"127.0.0.1:8080\", not %q", addr)
		return
	}
	_, err = strconv.ParseUint(port, 10, 16)
	v.check(key, err == nil, "port must be a number from 0 to 65535, not %q", port)
}

// isRegion reports whether s is two upper-case ASCII letters.
func isRegion(s string) bool {
	return len(s) == 2 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z'
}

// isDigits reports whether s is between min and max decimal digits.
func isDigits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// sip checks the [sip] table.
func (v *validator) sip(s SIP) {
	v.oneOf("sip.mode", s.Mode, "off", "listen", "register")
	if s.Mode == "off" {
		return
	}
	v.listen("sip.listen", s.Listen)
	v.check("sip.tcp", s.UDP || s.TCP, "udp and tcp are both false: at least one transport must be on")
	v.check("sip.public_address", !strings.ContainsAny(s.PublicAddress, " :;<>@\"\t"),
		"must be a host name or IP address without a port, not %q", s.PublicAddress)
	between(v, "sip.rtp_port_min", s.RTPPortMin, 1024, 65534)
	between(v, "sip.rtp_port_max", s.RTPPortMax, 1024, 65535)
	between(v, "sip.max_calls", s.MaxCalls, 1, 100)
	if s.RTPPortMin <= s.RTPPortMax {
		even := (s.RTPPortMax-s.RTPPortMin)/2 + 1
		v.check("sip.rtp_port_max", even >= s.MaxCalls,
			"the range %d-%d holds %d even ports, fewer than max_calls (%d)", s.RTPPortMin, s.RTPPortMax, even, s.MaxCalls)
	} else {
		v.check("sip.rtp_port_max", false, "must not be less than sip.rtp_port_min (%d), not %d", s.RTPPortMin, s.RTPPortMax)
	}
	between(v, "sip.ring_seconds", s.RingSeconds, 0, 300)
	between(v, "sip.ring_seconds_after_hours", s.RingSecondsAfterHours, 0, 300)
	between(v, "sip.max_message_seconds", s.MaxMessageSeconds, 10, 3600)
	between(v, "sip.min_message_seconds", s.MinMessageSeconds, 0, 30)
	between(v, "sip.silence_seconds", s.SilenceSeconds, 2, 60)
	v.check("sip.greeting", s.Greeting == "" || strings.HasSuffix(strings.ToLower(s.Greeting), ".wav"),
		"must be \"\" or the path of a .wav file, not %q", s.Greeting)
	v.check("sip.greeting_after_hours", s.GreetingAfterHours == "" || strings.HasSuffix(strings.ToLower(s.GreetingAfterHours), ".wav"),
		"must be \"\" or the path of a .wav file, not %q", s.GreetingAfterHours)
	between(v, "sip.register_expires", s.RegisterExpires.Duration, time.Minute, 24*time.Hour)
	between(v, "sip.transcribe_timeout", s.TranscribeTimeout.Duration, time.Second, 30*time.Minute)
	if s.Mode == "register" {
		host := ""
		if rest, ok := strings.CutPrefix(s.Registrar, "sip:"); ok {
			host = rest
		} else if rest, ok := strings.CutPrefix(s.Registrar, "sips:"); ok {
			host = rest
		}
		host, _, _ = strings.Cut(host, ";")
		v.check("sip.registrar", host != "" && !strings.ContainsAny(host, " <>\"@"),
			`must be a SIP URI such as "sip:pbx.local:5060" when mode is "register", not %q`, s.Registrar)
		v.check("sip.username", s.Username != "" && !strings.ContainsAny(s.Username, " :;<>@\""),
			`must be the extension's user name, such as "201", when mode is "register", not %q`, s.Username)
	}
}
