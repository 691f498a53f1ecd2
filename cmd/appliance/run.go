package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	stdsync "sync"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/modem"
	"github.com/counterdesk/counterdesk/modem/pdu"
	notices "github.com/counterdesk/counterdesk/notify"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/triage"
	"github.com/counterdesk/counterdesk/ui"
	"github.com/counterdesk/counterdesk/ui/auth"
)

// shutdownGrace bounds how long open HTTP requests may take to finish.
const shutdownGrace = 10 * time.Second

// healthEvery is how often the store and outbox report their health.
const healthEvery = 15 * time.Second

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c common
	c.register(fs, true)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", pos[0]))
	}
	environ, err = withCredentials(environ)
	if err != nil {
		return err
	}
	cfg, err := c.load(environ)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.Log)
	sd := newNotifier(environ, log)
	start := time.Now()

	dataDir, err := filepath.Abs(cfg.Store.DataDir)
	if err != nil {
		return fmt.Errorf("%w: data folder: %w", errConfig, err)
	}
	targets, err := syncTargets(cfg.Sync, environ)
	if err != nil {
		return err
	}
	clock := storeClock(cfg.Store)
	desk, rules, err := openDeskRules(dataDir, cfg, clock, log)
	if err != nil {
		return err
	}
	defer desk.Close()
	tokens, err := auth.NewTokens(desk.DB())
	if err != nil {
		return err
	}
	users, err := auth.NewUsers(desk.DB(), auth.UsersOptions{})
	if err != nil {
		return err
	}
	var categories []string
	for _, c := range cfg.Triage.Categories {
		categories = append(categories, c.Name)
	}
	reg := health.New()
	reportStore(desk, reg)
	syncEngine, err := newSyncEngine(cfg, desk, targets, reg, log.With("subsystem", "sync"))
	if err != nil {
		return err
	}
	var remoteLink func(target, id string) string
	if syncEngine != nil {
		remoteLink = syncEngine.Link
	}

	tlsCfg, fingerprint, err := tlsConfig(cfg.HTTP, dataDir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	scheme := "http://"
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
		scheme = "https://"
	}
	srv := ui.New(ui.Options{
		Desk:         desk,
		Tokens:       tokens,
		Health:       reg,
		MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
		ReadTimeout:  cfg.HTTP.ReadTimeout.Duration,
		WriteTimeout: cfg.HTTP.WriteTimeout.Duration,
		Logger:       log.With("subsystem", "http"),
		Version:      Version(),
		Users:        users,
		ShopName:     cfg.Shop.Name,
		Categories:   categories,

		MaxPhotoBytes:    cfg.Counter.MaxPhotoBytes,
		CounterMinFill:   cfg.Counter.MinFill.Duration,
		CounterRate:      cfg.Counter.RatePerHour,
		CounterWindow:    time.Hour,
		LoginMaxFailures: cfg.Counter.LoginMaxFailures,
		LoginLockout:     cfg.Counter.LoginLockout.Duration,
		Location:         cfg.Location(),
		RemoteLink:       remoteLink,
	})
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	ctl, err := listenControl(dataDir, desk, tokens, log.With("subsystem", "control"))
	if err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	defer ctl.Close()

	// Channels run until the appliance stops; each reports its own health.
	channels, stopChannels := context.WithCancel(ctx)
	var wg stdsync.WaitGroup
	defer func() {
		stopChannels()
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		runModem(channels, cfg, desk, reg, log.With("subsystem", "modem"))
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		runNightlyBackup(channels, cfg.Backup, cfg.Location(), desk, reg, log.With("subsystem", "backup"))
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		runSync(channels, syncEngine, log.With("subsystem", "sync"))
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		runMail(channels, cfg, desk, customerNotices(cfg, rules), reg, log.With("subsystem", "mail"))
	}()
	if staffMail(cfg) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			notices.RunDigest(channels, notices.DigestOptions{
				At: cfg.Notify.DigestAt, Location: cfg.Location(), To: cfg.Notify.StaffEmails,
				Enqueue: desk.Enqueue, Trusted: clock.Synced, Logger: log.With("subsystem", "digest"),
			})
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		watchClock(channels, clock, clockEvery, desk, reg, log.With("subsystem", "clock"))
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		runPhone(channels, cfg, desk, rules.Open, dataDir, reg, log.With("subsystem", "sip"))
	}()

	if fingerprint != "" {
		log.Info("staff pages over HTTPS", "tls", cfg.HTTP.TLS, "certificate_sha256", fingerprint)
	}
	count, _ := desk.Count()
	log.Info("counterdesk ready",
		"version", Version(),
		"http", scheme+ln.Addr().String(),
		"data", dataDir,
		"database", filepath.Join(dataDir, ticket.DBFile),
		"config", configName(c.configPath),
		"tickets", count,
		"modem", cfg.Modem.Device,
		"sip", sipSummary(cfg.SIP),
		"startup", time.Since(start).Round(time.Millisecond))
	sd.Ready(servingStatus(count, nil))

	tick := time.NewTicker(healthEvery)
	defer tick.Stop()
	var keepAlive <-chan time.Time
	if every := sd.KeepAlive(); every > 0 {
		wd := time.NewTicker(every)
		defer wd.Stop()
		keepAlive = wd.C
	}
	for {
		select {
		case <-ctx.Done():
			log.Info("shutting down")
			sd.Stopping("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				log.Warn("http shutdown", "err", err)
			}
			return nil
		case err := <-serveErr:
			if err != nil {
				return fmt.Errorf("http: %w", err)
			}
			return nil
		case <-tick.C:
			reportStore(desk, reg)
		case <-keepAlive:
			sd.Watchdog(servingStatus(desk.Count()))
		}
	}
}

func configName(path string) string {
	if path == "" {
		return "built-in defaults"
	}
	return path
}

// sipSummary says how the phone line is set up, for the ready line.
func sipSummary(s config.SIP) string {
	switch s.Mode {
	case "off":
		return "off"
	case "register":
		return s.Listen + ", registering with " + s.Registrar
	}
	return s.Listen
}

// openDesk opens the store with the settings of cfg and its triage and
// automation rules.
func openDesk(dataDir string, cfg config.Config, log *slog.Logger) (*ticket.Desk, error) {
	d, _, err := openDeskRules(dataDir, cfg, storeClock(cfg.Store), log)
	return d, err
}

// openDeskRules is openDesk that also returns the rules, whose opening
// hours the channels read.
func openDeskRules(dataDir string, cfg config.Config, clock ticket.Clock, log *slog.Logger) (*ticket.Desk, *triage.Engine, error) {
	rules, err := triage.New(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: triage rules: %w", errConfig, err)
	}
	notifier := customerNotices(cfg, rules)
	planners := syncPlanner(cfg.Sync)
	if staffMail(cfg) && len(cfg.Notify.Redirect) > 0 {
		planners = append(planners, notifier) // the redirection rules
	}
	d, err := ticket.Open(dataDir, ticket.Options{
		Triager:      rules,
		Automator:    rules,
		Region:       cfg.Shop.DefaultRegion,
		ThreadWindow: cfg.Store.ThreadWindow.Duration,
		Limits: ticket.Limits{
			MaxMessageBytes:    cfg.Store.MaxMessageBytes,
			MaxAttachmentBytes: cfg.Store.MaxAttachmentBytes,
			MaxAttachments:     cfg.Store.MaxAttachments,
			MinFreeBytes:       uint64(cfg.Store.MinFreeBytes),
		},
		FeedBuffer: cfg.Store.FeedBuffer,
		BatchDelay: cfg.Store.BatchDelay.Duration,
		Outbox: ticket.OutboxOptions{
			MaxAttempts: cfg.Outbox.MaxAttempts,
			Lease:       cfg.Outbox.Lease.Duration,
			BackoffBase: cfg.Outbox.BackoffBase.Duration,
			BackoffMax:  cfg.Outbox.BackoffMax.Duration,
			MaxPending:  cfg.Outbox.MaxPending,
		},
		Planners:     planners,
		Notifier:     notifier,
		StaffNotices: staffMail(cfg) && len(cfg.Notify.StaffEmails) > 0,
		Clock:        clock,
		Logger:       log.With("subsystem", "store"),
	})
	if errors.Is(err, ticket.ErrNewerSchema) {
		// No restart fixes this: the binary is older than the data.
		return nil, nil, fmt.Errorf("%w: store: %w", errConfig, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: %w", err)
	}
	return d, rules, nil
}

// reportStore records the health of the store and the outbox. A parked row
// or an outbox nine-tenths full needs a person's attention.
func reportStore(d *ticket.Desk, reg *health.Registry) {
	n, err := d.Count()
	if err != nil {
		reg.Fail("store", health.Down, err)
		return
	}
	if free, ok := ticket.FreeBytes(d.Dir()); ok && d.Limits().MinFreeBytes > 0 && free < 2*d.Limits().MinFreeBytes {
		state := health.Degraded
		what := "new recordings and attachments are refused"
		if free >= d.Limits().MinFreeBytes {
			what = "recordings and attachments will be refused soon"
		}
		reg.Set("store", state, fmt.Sprintf("%d tickets; the disk is nearly full (%d MB free): %s; free some space or move the data folder to a bigger card", n, free>>20, what))
	} else {
		reg.Set("store", health.OK, fmt.Sprintf("%d tickets", n))
	}
	st, err := d.OutboxStats()
	switch {
	case err != nil:
		reg.Fail("outbox", health.Down, err)
	case st.Dead > 0:
		reg.Set("outbox", health.Degraded, fmt.Sprintf("%d waiting, %d parked after failing (retry them from the outbox page)", st.Pending, st.Dead))
	case st.Pending*10 >= st.Max*9:
		reg.Set("outbox", health.Degraded, fmt.Sprintf("%d of %d rows used", st.Pending, st.Max))
	default:
		reg.Set("outbox", health.OK, fmt.Sprintf("%d waiting", st.Pending))
	}
}

// newLogger returns the process logger. Secrets never reach it: config
// values are not logged, and the HTTP layer leaves out credentials.
func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

var errNotRunning = errors.New("the appliance is not running")

// runModem keeps the GSM modem going until ctx ends.
func runModem(ctx context.Context, cfg config.Config, desk *ticket.Desk, reg *health.Registry, log *slog.Logger) {
	svc := &modem.Service{
		Config: modem.Config{
			Device:           cfg.Modem.Device,
			Baud:             cfg.Modem.Baud,
			PIN:              cfg.Modem.PIN,
			Storage:          cfg.Modem.Storage,
			RejectAfterRings: cfg.Modem.RejectCallsAfterRings,
		},
		Health: reg,
		Log:    log,
	}
	svc.Sender = &modem.Sender{Desk: desk, DB: desk.DB(), PerMinute: cfg.Modem.SendRatePerMinute, StatusReports: true}
	switch cfg.Modem.NationalLanguage {
	case "turkish":
		svc.Sender.NationalLanguages = []pdu.Language{pdu.Turkish}
	case "spanish":
		svc.Sender.NationalLanguages = []pdu.Language{pdu.Spanish}
	case "portuguese":
		svc.Sender.NationalLanguages = []pdu.Language{pdu.Portuguese}
	}
	svc.Receiver = &modem.Receiver{Desk: desk, DB: desk.DB(), PartsMaxAge: cfg.Modem.PartsMaxAge.Duration, Log: log, Reports: svc.Sender.StatusReport}
	if err := svc.Run(ctx); err != nil {
		log.Error("modem stopped", "err", err)
	}
}
