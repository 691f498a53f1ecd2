package telephony

import (
	"context"
	"log/slog"

	"github.com/emiago/sipgo/sip"
)

// quietHandler passes the SIP stack's own log records on at debug level.
// The stack logs every unparsable datagram as an error with its bytes; on
// a line exposed to the internet that is noise (and a way to flood the
// log), while the line logs what a person needs to know itself.
type quietHandler struct{ h slog.Handler }

func (q quietHandler) Enabled(ctx context.Context, _ slog.Level) bool {
	return q.h.Enabled(ctx, slog.LevelDebug)
}

func (q quietHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = slog.LevelDebug
	return q.h.Handle(ctx, r)
}

func (q quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{q.h.WithAttrs(attrs)}
}

func (q quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{q.h.WithGroup(name)}
}

// stackLogger is the logger given to sipgo.
func (s *Service) stackLogger() *slog.Logger {
	return slog.New(quietHandler{s.log().With("part", "sip-stack").Handler()})
}

// SetStackLogger sends the few log lines the SIP stack writes outside any
// line (its package-wide logger) to l, at debug level. It changes state
// shared by the whole process, so only main calls it, once.
func SetStackLogger(l *slog.Logger) {
	sip.SetDefaultLogger(slog.New(quietHandler{l.With("part", "sip-stack").Handler()}))
}
