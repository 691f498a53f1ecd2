package modem

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrSIMLocked means the SIM wants its PUK (the PIN was entered wrong too
// often) or another code the appliance must never guess.
var ErrSIMLocked = errors.New("modem: SIM locked")

// ErrNeedPIN means the SIM asks for a PIN and none is configured.
var ErrNeedPIN = errors.New("modem: SIM needs a PIN: set pin in [modem]")

// Setup is what Init needs to know.
type Setup struct {
	PIN     string // SIM PIN, or "" when the SIM has none
	Storage string // message storage for AT+CPMS: "SM" (SIM), "ME" (modem) or "MT" (both)
}

// Init prepares a freshly opened modem for the desk: echo off, numeric
// errors, the SIM PIN if asked, PDU mode (3GPP TS 27.005 section 3.2.3),
// the message storage, new-message indications that store the message and
// announce it with +CMTI, status reports, and caller id (+CLIP). A PIN is
// entered at most once per call, so a wrong one never locks the SIM.
func Init(ctx context.Context, e *Engine, s Setup) error {
	// The first command after opening often meets boot noise or a
	// half-typed command: try a bare AT a few times.
	var err error
	for range 3 {
		if _, err = e.Command(ctx, "AT", 2*time.Second); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("modem does not answer AT: %w", err)
	}
	for _, cmd := range []string{"ATE0", "AT+CMEE=1"} {
		if _, err := e.Command(ctx, cmd, 0); err != nil {
			return err
		}
	}
	if err := unlock(ctx, e, s.PIN); err != nil {
		return err
	}
	storage := s.Storage
	if storage == "" {
		storage = "SM"
	}
	steps := [][]string{
		{"AT+CMGF=0"},
		{fmt.Sprintf(`AT+CPMS="%s","%s","%s"`, storage, storage, storage)},
		// Store new messages and announce them (+CMTI); status reports
		// straight to us (+CDS) or, where the modem cannot, stored.
		{"AT+CNMI=2,1,0,2,0", "AT+CNMI=2,1,0,1,0", "AT+CNMI=1,1,0,2,0", "AT+CNMI=1,1,0,1,0"},
		{"AT+CLIP=1"},
	}
	for _, alternatives := range steps {
		var err error
		for _, cmd := range alternatives {
			if _, err = e.Command(ctx, cmd, 0); err == nil {
				break
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// unlock enters the PIN when the SIM asks for one and waits until the SIM
// is ready.
func unlock(ctx context.Context, e *Engine, pin string) error {
	state, err := simState(ctx, e)
	if err != nil {
		return err
	}
	switch state {
	case "READY":
		return nil
	case "SIM PIN":
		if pin == "" {
			return ErrNeedPIN
		}
		if _, err := e.Command(ctx, `AT+CPIN="`+pin+`"`, 0); err != nil {
			return fmt.Errorf("modem: the SIM refused the configured PIN (not tried again, to keep the SIM from locking): %w", err)
		}
	default:
		return fmt.Errorf("%w: the SIM asks for %s", ErrSIMLocked, state)
	}
	// Some SIMs take a few seconds after the PIN.
	for range 10 {
		if state, err = simState(ctx, e); err == nil && state == "READY" {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return fmt.Errorf("modem: SIM not ready after the PIN (state %q): %v", state, err)
}

// simState returns what AT+CPIN? reports: "READY", "SIM PIN", "SIM PUK" ...
func simState(ctx context.Context, e *Engine) (string, error) {
	lines, err := e.Command(ctx, "AT+CPIN?", 0)
	if err != nil {
		return "", err
	}
	for _, l := range lines {
		if v, ok := value(l, "+CPIN"); ok {
			return strings.Trim(v, `"`), nil
		}
	}
	return "", badReply(strings.Join(lines, " "))
}

// Status is the modem's health, read every minute.
type Status struct {
	Signal       Signal
	Registration Registration
	Operator     string
}

// String is a sentence for the staff and the health page.
func (s Status) String() string {
	sig := "signal unknown"
	if s.Signal.Known() {
		sig = fmt.Sprintf("signal %d dBm", s.Signal.DBm())
	}
	op := s.Operator
	if op == "" {
		op = "no operator"
	}
	return fmt.Sprintf("%s, %s, %s", s.Registration, op, sig)
}

// ReadStatus asks the modem for its signal (AT+CSQ), registration
// (AT+CREG?) and operator (AT+COPS?).
func ReadStatus(ctx context.Context, e *Engine) (Status, error) {
	var st Status
	lines, err := e.Command(ctx, "AT+CSQ", 0)
	if err != nil {
		return st, err
	}
	if st.Signal, err = ParseCSQ(first(lines, "+CSQ")); err != nil {
		return st, err
	}
	if lines, err = e.Command(ctx, "AT+CREG?", 0); err != nil {
		return st, err
	}
	if st.Registration, err = ParseCREG(first(lines, "+CREG"), true); err != nil {
		return st, err
	}
	if lines, err = e.Command(ctx, "AT+COPS?", 0); err != nil {
		return st, err
	}
	st.Operator, err = ParseCOPS(first(lines, "+COPS"))
	return st, err
}

func first(lines []string, prefix string) string {
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), prefix+":") {
			return l
		}
	}
	return ""
}
