package modem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	stdsync "sync"
	"time"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
)

// HealthName is the name the modem reports its health under.
const HealthName = "modem"

// Defaults of a Service.
const (
	DefaultHealthEvery = time.Minute
	// DefaultRingGap is how long after the last RING a call counts as
	// over: networks repeat RING every 3 to 5 seconds while it rings.
	DefaultRingGap = 7 * time.Second
	backoffFirst   = time.Second
	backoffMax     = time.Minute
)

// Config is what the Service needs to know of the [modem] section.
type Config struct {
	Device           string // "auto", "off" or a path
	Baud             int
	PIN              string
	Storage          string
	RejectAfterRings int
	HealthEvery      time.Duration
	RingGap          time.Duration
}

// Service keeps the modem going: it opens the port, initialises the
// modem, takes in what arrived meanwhile, listens for new messages and
// calls, reports its health every minute, and when the modem goes away
// (unplugged, port error, no answer) opens it again with backoff.
type Service struct {
	Config   Config
	Receiver *Receiver
	// Sender sends the desk's SMS while the modem is up; nil sends none.
	Sender *Sender
	Health *health.Registry
	Log    *slog.Logger
	// Open opens the port; nil opens Config.Device with tarm/serial.
	Open func() (io.ReadWriteCloser, error)

	mu     stdsync.Mutex
	status *Status // the last status read, nil before the first
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Run keeps the modem going until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	if s.Config.Device == "off" {
		s.Health.Set(HealthName, health.Disabled, "no modem configured: SMS off")
		return nil
	}
	s.Health.AddSource(HealthName, s.metrics)
	wait := backoffFirst
	for {
		start := time.Now()
		err := s.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrNoModem) {
			s.Health.Set(HealthName, health.Disabled, "no modem found: plug in a GSM USB modem, or set device in [modem]")
		} else {
			s.Health.Fail(HealthName, health.Degraded, err)
			s.log().Warn("modem unavailable; opening it again later", "err", err, "retry_in", wait)
		}
		if time.Since(start) > backoffMax {
			wait = backoffFirst // it had been working: try again soon
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, backoffMax)
	}
}

func (s *Service) open() (io.ReadWriteCloser, string, error) {
	if s.Open != nil {
		p, err := s.Open()
		return p, "test port", err
	}
	path := s.Config.Device
	if path == "auto" {
		var model string
		var err error
		if path, model, err = FindModem(""); err != nil {
			return nil, "", err
		}
		s.log().Info("modem found", "model", model, "port", path)
	}
	p, err := OpenPort(path, s.Config.Baud)
	return p, path, err
}

// call is a call ringing the modem's number.
type call struct {
	number string
	start  time.Time
	rings  int
	last   time.Time
}

// session runs one opening of the modem until it fails or ctx ends.
func (s *Service) session(ctx context.Context) error {
	port, name, err := s.open()
	if err != nil {
		return err
	}
	defer port.Close()
	e := NewEngine(port, EngineOptions{Logger: s.log()})
	if err := Init(ctx, e, Setup{PIN: s.Config.PIN, Storage: s.Config.Storage}); err != nil {
		return fmt.Errorf("set up the modem on %s: %w", name, err)
	}
	s.log().Info("modem ready", "port", name)
	if n, err := s.Receiver.ReceiveAll(ctx, e); err != nil {
		return err
	} else if n > 0 {
		s.log().Info("messages taken in", "count", n)
	}
	s.checkHealth(ctx, e)
	if s.Sender != nil {
		sendCtx, stopSending := context.WithCancel(ctx)
		sending := make(chan struct{})
		go func() {
			defer close(sending)
			if err := s.Sender.Run(sendCtx, e); err != nil {
				s.log().Error("sending SMS stopped", "err", err)
			}
		}()
		defer func() {
			stopSending()
			<-sending
		}()
	}

	every := s.Config.HealthEvery
	if every <= 0 {
		every = DefaultHealthEvery
	}
	gap := s.Config.RingGap
	if gap <= 0 {
		gap = DefaultRingGap
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	ringTimer := time.NewTimer(time.Hour)
	ringTimer.Stop()
	var ringing *call
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.Done():
			return e.Err()
		case <-tick.C:
			if err := s.checkHealth(ctx, e); err != nil {
				return err
			}
			if err := s.Receiver.FlushStale(ctx); err != nil {
				s.log().Error("message parts", "err", err)
			}
		case <-ringTimer.C:
			if ringing != nil {
				s.missedCall(ctx, ringing)
				ringing = nil
			}
		case u, ok := <-e.URCs():
			if !ok {
				return e.Err()
			}
			switch u.Name {
			case "+CMTI":
				if _, err := s.Receiver.ReceiveAll(ctx, e); err != nil {
					return err
				}
			case "+CMT":
				if err := s.Receiver.Receive(ctx, u.Data); err != nil {
					s.log().Error("message shown directly could not be stored; the network will send it again", "err", err)
				} else if _, err := e.Command(ctx, "AT+CNMA", 0); err != nil {
					s.log().Debug("AT+CNMA", "err", err)
				}
			case "+CDS":
				if err := s.Receiver.Receive(ctx, u.Data); err != nil {
					s.log().Error("status report", "err", err)
				}
			case "RING", "+CRING":
				now := time.Now()
				if ringing == nil {
					ringing = &call{start: now}
				}
				ringing.rings++
				ringing.last = now
				ringTimer.Reset(gap)
				if n := s.Config.RejectAfterRings; n > 0 && ringing.rings == n {
					if _, err := e.Command(ctx, "ATH", 0); err != nil {
						s.log().Warn("could not reject the call", "err", err)
					}
				}
			case "+CLIP":
				if ringing == nil {
					ringing = &call{start: time.Now()}
				}
				if number, _, err := ParseCLIP(u.Value); err == nil {
					ringing.number = number
				}
			case "NO CARRIER":
				if ringing != nil {
					ringTimer.Reset(0)
				}
			}
		}
	}
}

// checkHealth reads the modem's status into the health registry. A modem
// that no longer answers ends the session.
func (s *Service) checkHealth(ctx context.Context, e *Engine) error {
	st, err := ReadStatus(ctx, e)
	if err != nil {
		if errors.Is(err, ErrTimeout) || errors.Is(err, ErrClosed) {
			return fmt.Errorf("modem stopped answering: %w", err)
		}
		s.Health.Fail(HealthName, health.Degraded, err)
		return nil
	}
	state := health.OK
	if !st.Registration.Registered() {
		state = health.Degraded
	}
	s.mu.Lock()
	s.status = &st
	s.mu.Unlock()
	s.Health.Set(HealthName, state, st.String())
	return nil
}

// metrics gives the modem's last status to the metrics page.
func (s *Service) metrics() []health.Metric {
	s.mu.Lock()
	st := s.status
	s.mu.Unlock()
	if st == nil {
		return nil
	}
	reg := 0.0
	if st.Registration.Registered() {
		reg = 1
	}
	out := []health.Metric{{Name: "counterdesk_modem_registered", Type: "gauge",
		Help: "1 while the modem is registered with its network (home or roaming).", Value: reg}}
	if st.Signal.Known() {
		out = append(out, health.Metric{Name: "counterdesk_modem_signal_dbm", Type: "gauge",
			Help: "The modem's signal strength (AT+CSQ), in dBm.", Value: float64(st.Signal.DBm())})
	}
	return out
}

// missedCall makes a missed-call ticket for a call nobody answered: the
// modem cannot take calls, so every call to it is missed. Calls from one
// number thread onto that contact's open ticket like any request.
func (s *Service) missedCall(ctx context.Context, c *call) {
	in := ticket.Inbound{
		Channel:   ticket.ChannelMissedCall,
		SourceKey: "modem|" + c.number + "|" + c.start.UTC().Format(time.RFC3339Nano),
		At:        c.start,
		Meta:      ticket.Meta{"rings": strconv.Itoa(c.rings), "ring_seconds": strconv.Itoa(int(c.last.Sub(c.start).Seconds()))},
	}
	if c.number == "" {
		in.From.Name = "anonymous"
	} else {
		in.From.Phone = c.number
	}
	if _, err := s.Receiver.Desk.Ingest(ctx, in); err != nil {
		s.log().Error("missed call not recorded", "number", c.number, "err", err)
	}
}
