package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/sync/freshdesk"
	"github.com/counterdesk/counterdesk/sync/hubspot"
	"github.com/counterdesk/counterdesk/sync/webhook"
	"github.com/counterdesk/counterdesk/sync/zendesk"
	"github.com/counterdesk/counterdesk/ticket"
)

// syncTypes makes a target of each type of [[sync.targets]]. Adding a
// helpdesk is its folder under sync/ and one line here.
var syncTypes = map[string]func(config.SyncTarget, time.Duration) (sync.Target, error){
	"zendesk":   func(c config.SyncTarget, d time.Duration) (sync.Target, error) { return zendesk.New(c, d) },
	"freshdesk": func(c config.SyncTarget, d time.Duration) (sync.Target, error) { return freshdesk.New(c, d) },
	"hubspot":   func(c config.SyncTarget, d time.Duration) (sync.Target, error) { return hubspot.New(c, d) },
	"webhook":   func(c config.SyncTarget, d time.Duration) (sync.Target, error) { return webhook.New(c, d) },
}

// syncPlanner queues the rows of the configured targets, or nil without
// any.
func syncPlanner(s config.Sync) []ticket.Planner {
	if len(s.Targets) == 0 {
		return nil
	}
	var names []string
	for _, t := range s.Targets {
		names = append(names, t.Name)
	}
	return []ticket.Planner{sync.Planner(names)}
}

// syncTargets makes the configured targets. A target without a token in
// the config file takes it from the systemd credential sync-NAME.
func syncTargets(s config.Sync, environ []string) ([]sync.Named, error) {
	var out []sync.Named
	for _, t := range s.Targets {
		if dir := lookupEnv(environ, envCredentialsDir); t.Token == "" && dir != "" {
			token, err := credentialValue(dir, "sync-"+t.Name)
			if err != nil {
				return nil, err
			}
			t.Token = token
		}
		make, ok := syncTypes[t.Type]
		if !ok {
			return nil, fmt.Errorf("%w: sync target %q: unknown type %q", errConfig, t.Name, t.Type)
		}
		target, err := make(t, s.Timeout.Duration)
		if err != nil {
			return nil, fmt.Errorf("%w: sync target %q: %w", errConfig, t.Name, err)
		}
		out = append(out, sync.Named{Name: t.Name, Type: t.Type, Target: target, TwoWay: t.TwoWay})
	}
	return out, nil
}

// runSync copies tickets to the targets until ctx ends.
func runSync(ctx context.Context, e *sync.Engine, log *slog.Logger) {
	if e == nil {
		return
	}
	log.Info("sync started")
	e.Run(ctx)
}

// newSyncEngine returns the engine of the targets, or nil without any.
func newSyncEngine(cfg config.Config, desk *ticket.Desk, targets []sync.Named, reg *health.Registry, log *slog.Logger) (*sync.Engine, error) {
	if len(targets) == 0 {
		reg.Set("sync", health.Disabled, "no [[sync.targets]] configured: tickets stay on the box")
		return nil, nil
	}
	e, err := sync.New(desk, targets, sync.Options{
		Parallel:     cfg.Sync.Parallel,
		PollInterval: cfg.Sync.PollInterval.Duration,
		Health:       reg,
		Logger:       log,
	})
	if err != nil {
		return nil, err
	}
	reg.AddSource("sync", e.Metrics)
	return e, nil
}
