package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/telephony"
	"github.com/counterdesk/counterdesk/ticket"
)

// phoneRetry is the wait before the phone line tries again to bind its
// port (another program holds 5060, or the address is not up yet).
const phoneRetry = 30 * time.Second

// runPhone keeps the shop's SIP line going until ctx ends.
func runPhone(ctx context.Context, cfg config.Config, desk *ticket.Desk, open func(time.Time) bool, dataDir string, reg *health.Registry, log *slog.Logger) {
	s := cfg.SIP
	if s.Mode == "off" {
		reg.Set("sip", health.Disabled, `the phone line is off (mode = "off" in [sip])`)
		return
	}
	telephony.SetStackLogger(log)
	svc := &telephony.Service{
		Config: telephony.Config{
			Mode: s.Mode, Listen: s.Listen, UDP: s.UDP, TCP: s.TCP, PublicAddress: s.PublicAddress,
			RTPPortMin: s.RTPPortMin, RTPPortMax: s.RTPPortMax,
			Ring:              time.Duration(s.RingSeconds) * time.Second,
			RingAfterHours:    time.Duration(s.RingSecondsAfterHours) * time.Second,
			MaxMessage:        time.Duration(s.MaxMessageSeconds) * time.Second,
			MinMessage:        time.Duration(s.MinMessageSeconds) * time.Second,
			Silence:           time.Duration(s.SilenceSeconds) * time.Second,
			MaxRecordingBytes: cfg.Store.MaxAttachmentBytes,
			MinFreeBytes:      uint64(cfg.Store.MinFreeBytes),
			MaxCalls:          s.MaxCalls,
			Registrar:         s.Registrar, Username: s.Username, AuthUsername: s.AuthUsername,
			Password: s.Password, Domain: s.Domain, RegisterExpires: s.RegisterExpires.Duration,
			TranscribeCommand: s.TranscribeCommand, TranscribeTimeout: s.TranscribeTimeout.Duration,
			SpoolDir: filepath.Join(dataDir, "voicemail-spool"),
		},
		Desk:   desk,
		Open:   open,
		Health: reg,
		Log:    log,
	}
	greetings, err := telephony.LoadGreetings(s.Greeting, s.GreetingAfterHours)
	if err != nil {
		// A greeting that does not load must not keep the line from
		// answering: the built-in one plays, and the health page says why.
		log.Error("greeting not loaded; playing the built-in greeting", "err", err)
		svc.Warning = "the configured greeting did not load (" + err.Error() + "); the built-in greeting plays"
		greetings, _ = telephony.LoadGreetings("", "")
	}
	svc.Greetings = greetings
	for {
		err := svc.Start(ctx)
		if err == nil {
			break
		}
		log.Error("phone line not started; trying again", "err", err, "retry_in", phoneRetry)
		reg.Fail("sip", health.Down, err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(phoneRetry):
		}
	}
	<-ctx.Done()
	svc.Close()
}
