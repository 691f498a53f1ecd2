package modem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"
)

// Defaults of EngineOptions.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultSendTimeout = 60 * time.Second // AT+CMGS waits for the network
	DefaultURCBuffer   = 64
)

// EngineOptions configure an Engine.
type EngineOptions struct {
	// Timeout bounds a command that names no timeout of its own.
	Timeout time.Duration
	// URCBuffer bounds the unsolicited codes waiting to be read; when it
	// is full, further ones are dropped, counted and logged.
	URCBuffer int
	Logger    *slog.Logger
}

// Engine runs AT commands over a port, one at a time, and hands the
// modem's unsolicited codes to URCs, even when they arrive in the middle of
// a command's response.
type Engine struct {
	w    io.Writer
	opts EngineOptions
	log  *slog.Logger
	urcs chan URC

	mu     stdsync.Mutex // one command at a time
	cur    atomic.Pointer[command]
	resync atomic.Bool // a command timed out: its late answer may still come

	dropped atomic.Int64
	done    chan struct{}
	errMu   stdsync.Mutex
	err     error
}

// command is the command the reader hands lines to.
type command struct {
	echo   string // the command as sent, to skip its echo
	prefix string // "+CMGR" for AT+CMGR=1: lines so prefixed are answers, not URCs
	lines  chan string
}

// NewEngine starts reading port and returns the engine. The engine stops
// when port's reads fail (the modem went away); Done is closed then.
func NewEngine(port io.ReadWriter, opts EngineOptions) *Engine {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.URCBuffer <= 0 {
		opts.URCBuffer = DefaultURCBuffer
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{w: port, opts: opts, log: opts.Logger, urcs: make(chan URC, opts.URCBuffer), done: make(chan struct{})}
	go e.read(NewLineReader(port))
	return e
}

// URCs returns the unsolicited codes, in the order they came.
func (e *Engine) URCs() <-chan URC { return e.urcs }

// Dropped returns how many unsolicited codes were dropped because nobody
// read them in time.
func (e *Engine) Dropped() int64 { return e.dropped.Load() }

// Done is closed when the engine stopped reading: the port failed or
// closed. Err says why.
func (e *Engine) Done() <-chan struct{} { return e.done }

// Err returns why the engine stopped, or nil while it runs.
func (e *Engine) Err() error {
	e.errMu.Lock()
	defer e.errMu.Unlock()
	return e.err
}

// read dispatches every line: to the running command, or as a URC.
func (e *Engine) read(lr *LineReader) {
	defer close(e.done)
	defer close(e.urcs)
	var held *URC // a +CMT/+CDS header waiting for its PDU line
	for {
		line, err := lr.Next()
		if errors.Is(err, ErrLineTooLong) {
			e.log.Warn("modem sent an over-long line; dropped", "limit", MaxLine)
			continue
		}
		if err != nil {
			e.errMu.Lock()
			e.err = fmt.Errorf("%w: %w", ErrClosed, err)
			e.errMu.Unlock()
			return
		}
		if held != nil {
			held.Data = strings.TrimSpace(line)
			e.emit(*held)
			held = nil
			continue
		}
		cur := e.cur.Load()
		if cur != nil && cur.prefix != "" && strings.HasPrefix(strings.TrimSpace(line), cur.prefix+":") {
			cur.lines <- line
			continue
		}
		if u, ok := parseURC(line); ok {
			if u.Name == "NO CARRIER" && cur != nil {
				cur.lines <- line // a call's final result, not a URC, while a command runs
				continue
			}
			if twoLine[u.Name] {
				held = &u
				continue
			}
			e.emit(u)
			continue
		}
		if cur != nil {
			cur.lines <- line
			continue
		}
		e.log.Debug("modem line outside any command", "line", line)
	}
}

func (e *Engine) emit(u URC) {
	select {
	case e.urcs <- u:
	default:
		n := e.dropped.Add(1)
		e.log.Warn("unsolicited modem code dropped: nobody read the queue in time", "code", u.Name, "dropped", n)
	}
}

// Command sends cmd (such as "AT+CSQ") and returns the lines of its answer
// without the echo and the final result. A final error comes back typed:
// *CMEError, *CMSError, *CallResult or ErrError. timeout 0 means the
// engine's default.
func (e *Engine) Command(ctx context.Context, cmd string, timeout time.Duration) ([]string, error) {
	if strings.ContainsAny(cmd, "\r\n\x1a\x1b") {
		return nil, fmt.Errorf("%w: %q", ErrBadCommand, cmd)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.resyncLocked(ctx); err != nil {
		return nil, err
	}
	c := e.start(cmd)
	defer e.cur.Store(nil)
	if err := e.write(cmd + "\r"); err != nil {
		return nil, err
	}
	lines, _, err := e.collect(ctx, c, redact(cmd), timeout, false)
	return lines, err
}

// redact hides secrets in a command before it appears in an error or a
// log: the SIM PIN of AT+CPIN.
func redact(cmd string) string {
	if strings.HasPrefix(strings.ToUpper(cmd), "AT+CPIN=") {
		return "AT+CPIN=<pin>"
	}
	return cmd
}

// SendPDU sends one SMS in PDU mode (TS 27.005 section 3.5.1): AT+CMGS
// with the TPDU length, the hex PDU after the "> " prompt, Ctrl-Z. It
// returns the message reference the modem reports (+CMGS: <mr>).
func (e *Engine) SendPDU(ctx context.Context, tpduLen int, pduHex string, timeout time.Duration) (int, error) {
	if strings.Trim(pduHex, "0123456789ABCDEFabcdef") != "" || len(pduHex)%2 != 0 {
		return 0, fmt.Errorf("%w: PDU is not hex", ErrBadCommand)
	}
	if timeout <= 0 {
		timeout = DefaultSendTimeout
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.resyncLocked(ctx); err != nil {
		return 0, err
	}
	cmd := "AT+CMGS=" + strconv.Itoa(tpduLen)
	c := e.start(cmd)
	defer e.cur.Store(nil)
	if err := e.write(cmd + "\r"); err != nil {
		return 0, err
	}
	if _, prompted, err := e.collect(ctx, c, cmd, e.opts.Timeout, true); err != nil || !prompted {
		if err == nil {
			err = fmt.Errorf("modem: AT+CMGS finished without a prompt")
		}
		return 0, err
	}
	if err := e.write(pduHex + "\x1a"); err != nil {
		return 0, err
	}
	lines, _, err := e.collect(ctx, c, cmd, timeout, false)
	if err != nil {
		return 0, err
	}
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "+CMGS:"); ok {
			ref, _, _ := strings.Cut(strings.TrimSpace(rest), ",")
			mr, err := strconv.Atoi(strings.TrimSpace(ref))
			if err != nil {
				return 0, fmt.Errorf("modem: bad +CMGS answer %q", l)
			}
			return mr, nil
		}
	}
	return 0, fmt.Errorf("modem: AT+CMGS gave no message reference")
}

func (e *Engine) start(cmd string) *command {
	c := &command{echo: strings.TrimSpace(cmd), prefix: prefixOf(cmd), lines: make(chan string, 256)}
	e.cur.Store(c)
	return c
}

func (e *Engine) write(s string) error {
	if _, err := io.WriteString(e.w, s); err != nil {
		return fmt.Errorf("%w: write: %w", ErrClosed, err)
	}
	return nil
}

// collect takes the lines of command c until its final result, or until
// the prompt when prompt is set (then it reports prompted).
func (e *Engine) collect(ctx context.Context, c *command, cmd string, timeout time.Duration, prompt bool) (lines []string, prompted bool, err error) {
	if timeout <= 0 {
		timeout = e.opts.Timeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case line := <-c.lines:
			s := strings.TrimSpace(line)
			if s == c.echo {
				continue // echo is on (before ATE0)
			}
			if s == ">" {
				if prompt {
					return lines, true, nil
				}
				continue
			}
			if final, ferr := Final(s); final {
				if ferr != nil {
					return lines, false, fmt.Errorf("%s: %w", cmd, ferr)
				}
				return lines, false, nil
			}
			lines = append(lines, s)
		case <-timer.C:
			e.resync.Store(true)
			return lines, false, fmt.Errorf("%s: %w (%s)", cmd, ErrTimeout, timeout)
		case <-ctx.Done():
			e.resync.Store(true)
			return lines, false, ctx.Err()
		case <-e.done:
			return lines, false, fmt.Errorf("%s: %w", cmd, e.Err())
		}
	}
}

// resyncLocked, after a command timed out, sends a bare AT and waits for
// its OK and a short quiet spell, so that a late answer to the old command
// is not taken for the next one's.
func (e *Engine) resyncLocked(ctx context.Context) error {
	if !e.resync.Load() {
		return nil
	}
	c := e.start("AT")
	defer e.cur.Store(nil)
	if err := e.write("\x1b\rAT\r"); err != nil { // ESC ends a half-sent PDU
		return err
	}
	if _, _, err := e.collect(ctx, c, "AT", e.opts.Timeout, false); err != nil && !isFinalError(err) {
		return fmt.Errorf("modem: resync: %w", err)
	}
	quiet := time.NewTimer(200 * time.Millisecond)
	defer quiet.Stop()
	for {
		select {
		case <-c.lines:
			quiet.Reset(200 * time.Millisecond)
		case <-quiet.C:
			e.resync.Store(false)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func isFinalError(err error) bool {
	var cme *CMEError
	var cms *CMSError
	return errors.Is(err, ErrError) || errors.As(err, &cme) || errors.As(err, &cms)
}
