package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/mail"
	notices "github.com/counterdesk/counterdesk/notify"
	"github.com/counterdesk/counterdesk/ticket"
)

// mailActor records the delivery states of mails.
var mailActor = ticket.Actor{Kind: ticket.ActorChannel, Name: "email"}

// runMail reads the support mailbox and sends the email outbox until ctx
// ends, each part when it is configured.
func runMail(ctx context.Context, cfg config.Config, desk *ticket.Desk, staff *notices.Notifier, reg *health.Registry, log *slog.Logger) {
	m := cfg.Mail
	if m.IMAPServer == "" && m.SMTPServer == "" {
		reg.Set(mail.IMAPHealthName, health.Disabled, "no support mailbox configured ([mail] imap_server)")
		return
	}
	limits := desk.Limits()
	done := make(chan struct{})
	started := 0
	if m.IMAPServer != "" {
		o := mail.IMAPOptions{
			Server: m.IMAPServer, TLS: m.IMAPTLS, Auth: m.IMAPAuth, Username: m.IMAPUsername,
			Mailbox: m.Mailbox, ProcessedFolder: m.ProcessedFolder, PollInterval: m.PollInterval.Duration,
			MaxBodyBytes: limits.MaxMessageBytes, MaxAttachmentBytes: limits.MaxAttachmentBytes, MaxAttachments: limits.MaxAttachments,
			Logger: log.With("side", "imap"), Health: reg, Ingester: desk,
			// A bounce of the box's own mail marks that reply failed.
			Bounced: func(ctx context.Context, n, id uint64, detail string) error {
				return desk.SetDelivery(ctx, mailActor, n, id, ticket.DeliveryFailed, detail)
			},
		}
		if m.IMAPAuth == "xoauth2" {
			o.AccessToken = m.IMAPPassword
		} else {
			o.Password = m.IMAPPassword
		}
		r, err := mail.NewIMAPReceiver(o)
		if err != nil {
			log.Error("support mailbox not started", "err", err)
			reg.Fail(mail.IMAPHealthName, health.Down, err)
		} else {
			started++
			go func() {
				defer func() { done <- struct{}{} }()
				if err := r.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
					log.Error("support mailbox stopped", "err", err)
				}
			}()
		}
	}
	if m.SMTPServer != "" {
		o := mail.SMTPOptions{
			Server: m.SMTPServer, TLS: m.SMTPTLS, Auth: m.SMTPAuth, Username: m.SMTPUsername,
			From: m.From, FromName: cfg.Shop.Name, Domain: m.Domain, Timeout: time.Minute,
			MaxAttachmentBytes: limits.MaxAttachmentBytes, Location: cfg.Location(),
			Desk: desk, Logger: log.With("side", "smtp"), Health: reg, Release: desk.Release,
			Delivered: func(ctx context.Context, n, id uint64, state, detail string) error {
				return desk.SetDelivery(ctx, mailActor, n, id, state, detail)
			},
		}
		if m.SMTPAuth == "xoauth2" {
			o.Token = m.SMTPPassword
		} else {
			o.Password = m.SMTPPassword
		}
		s, err := mail.NewSMTPSender(o)
		if err != nil {
			log.Error("sending mail not started", "err", err)
			reg.Fail("smtp", health.Down, err)
		} else {
			started++
			go func() {
				defer func() { done <- struct{}{} }()
				if err := desk.Consume(ctx, mail.SMTPKind, s.Deliver); err != nil {
					log.Error("sending mail stopped", "err", err)
				}
			}()
			if staffMail(cfg) {
				send := staffSender(desk, staff, s)
				for _, kind := range []string{ticket.KindNotifyStaff, notices.KindDigest} {
					started++
					go func() {
						defer func() { done <- struct{}{} }()
						if err := desk.Consume(ctx, kind, send); err != nil {
							log.Error("sending staff mail stopped", "kind", kind, "err", err)
						}
					}()
				}
			}
		}
	}
	for range started {
		<-done
	}
}

// staffSender is the outbox consumer of staff mails: the notifier writes
// each from the ticket's state at the time, the SMTP sender sends it. A
// mail with no one to go to (no staff_emails for an urgent ticket, a
// ticket deleted since) is done with.
func staffSender(desk *ticket.Desk, staff *notices.Notifier, s *mail.SMTPSender) ticket.Handler {
	return func(ctx context.Context, row ticket.OutboxRow) error {
		m, err := staff.StaffMail(desk, row, time.Now())
		if err != nil || len(m.To) == 0 {
			return err
		}
		return s.SendStaff(ctx, row, mail.StaffMessage{To: m.To, Subject: m.Subject, Body: m.Body, Key: m.Key})
	}
}
