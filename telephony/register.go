package telephony

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
)

// registration is the state of the line's registration with its provider
// or PBX, for the health page.
type registration struct {
	registered bool
	aor        string
	until      time.Time
	failures   int
	lastErr    string
	next       time.Time // the next attempt, after a failure
}

func (r registration) text() string {
	switch {
	case r.registered:
		return fmt.Sprintf("registered as %s until %s", r.aor, r.until.Format("15:04:05"))
	case r.lastErr != "" && !r.next.IsZero():
		return fmt.Sprintf("not registered as %s: %s (%d attempts; next at %s)", r.aor, r.lastErr, r.failures, r.next.Format("15:04:05"))
	case r.lastErr != "":
		return fmt.Sprintf("not registered as %s: %s (%d attempts)", r.aor, r.lastErr, r.failures)
	}
	return "registering as " + r.aor
}

// backoff is how the line retries a registration: after a failure it waits
// min, doubling with each further failure up to max; one attempt gives up
// after timeout, 64*T1 (RFC 3261 section 17.1.2.2, Timer F).
type backoff struct {
	min, max, timeout time.Duration
}

var defaultBackoff = backoff{min: 5 * time.Second, max: 5 * time.Minute, timeout: 32 * time.Second}

func (s *Service) regState() registration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reg
}

// registerLoop keeps the line registered until ctx ends, then removes the
// registration. A refused or unanswered registration is tried again after
// a wait that doubles from 5 seconds to 5 minutes.
func (s *Service) registerLoop(ctx context.Context, port int) {
	b := defaultBackoff
	if s.backoff != (backoff{}) {
		b = s.backoff
	}
	r, err := newRegistrar(s, port)
	if err != nil {
		s.mu.Lock()
		s.reg.lastErr = err.Error()
		s.mu.Unlock()
		s.report()
		s.log().Error("registration impossible", "err", err)
		return
	}
	s.mu.Lock()
	s.reg.aor = r.aor.String()
	s.mu.Unlock()
	log := s.log().With("aor", r.aor.String(), "registrar", r.registrar.String())
	wait := b.min
	for {
		granted, err := r.register(ctx, s.Config.RegisterExpires, b.timeout)
		if ctx.Err() != nil {
			break
		}
		next := refreshAfter(granted)
		if err != nil {
			next = wait
		}
		s.mu.Lock()
		if err != nil {
			s.reg.registered = false
			s.reg.failures++
			s.reg.lastErr = err.Error()
			s.reg.next = s.now().Add(next)
		} else {
			s.reg.registered = true
			s.reg.failures = 0
			s.reg.lastErr = ""
			s.reg.next = time.Time{}
			s.reg.until = s.now().Add(granted)
		}
		s.mu.Unlock()
		s.report()
		if err != nil {
			log.Warn("registration failed", "err", err, "retry_in", wait)
			wait = min(2*wait, b.max)
		} else {
			log.Info("registered", "expires", granted, "refresh_in", next)
			wait = b.min
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	if s.regState().registered {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		if _, err := r.register(uctx, 0, b.timeout); err != nil {
			log.Warn("unregistration failed", "err", err)
		} else {
			log.Info("unregistered")
		}
	}
}

// refreshAfter is when to renew a registration granted for d: well before
// it runs out, as RFC 3261 section 10.2.4 asks.
func refreshAfter(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Minute:
		return d - 2*time.Minute
	case d > 20*time.Second:
		return d * 3 / 4
	}
	return max(d/2, time.Second)
}

// registrar sends the line's REGISTER requests. One Call-ID serves every
// refresh, with a rising CSeq.
type registrar struct {
	s         *Service
	registrar sip.Uri
	aor       sip.Uri
	contact   sip.Uri
	callID    string
	fromTag   string
	cseq      uint32
	transport string
}

func newRegistrar(s *Service, port int) (*registrar, error) {
	c := s.Config
	var reg sip.Uri
	if err := sip.ParseUri(c.Registrar, &reg); err != nil {
		return nil, fmt.Errorf("registrar %q: %w", c.Registrar, err)
	}
	domain := c.Domain
	if domain == "" {
		domain = reg.Host
	}
	r := &registrar{
		s: s, registrar: reg,
		aor:     sip.Uri{Scheme: "sip", User: c.Username, Host: domain},
		callID:  uuid.NewString(),
		fromTag: strings.ReplaceAll(uuid.NewString()[:13], "-", ""),
		cseq:    1,
	}
	if t, ok := reg.UriParams.Get("transport"); ok && strings.EqualFold(t, "tcp") {
		r.transport = "TCP"
	} else {
		r.transport = "UDP"
	}
	host := c.PublicAddress
	if host == "" {
		ip, err := resolveIP(reg.Host)
		if err != nil {
			return nil, fmt.Errorf("registrar %q: %w", c.Registrar, err)
		}
		host = s.localIP(ip).String()
	}
	r.contact = sip.Uri{Scheme: "sip", User: c.Username, Host: host, Port: port}
	if r.transport == "TCP" {
		r.contact.UriParams = sip.NewParams()
		r.contact.UriParams.Add("transport", "tcp")
	}
	return r, nil
}

// register sends one REGISTER asking for expires (0 removes the binding),
// answers a digest challenge (401 or 407), and returns the lifetime the
// registrar granted. It gives up after timeout.
func (r *registrar) register(ctx context.Context, expires, timeout time.Duration) (time.Duration, error) {
	c := r.s.Config
	req := sip.NewRequest(sip.REGISTER, r.registrar)
	req.SetTransport(r.transport)
	from := &sip.FromHeader{Address: r.aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: r.aor})
	callID := sip.CallIDHeader(r.callID)
	req.AppendHeader(&callID)
	r.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	req.AppendHeader(&sip.ContactHeader{Address: r.contact})
	secs := int(expires / time.Second)
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(secs)))
	req.AppendHeader(sip.NewHeader("User-Agent", "counterdesk"))

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := r.s.client.Do(ctx, req, sipgo.ClientRequestBuild)
	if err != nil {
		return 0, fmt.Errorf("no answer from %s: %w", r.registrar.String(), err)
	}
	if res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired {
		user := c.AuthUsername
		if user == "" {
			user = c.Username
		}
		r.cseq++
		res, err = r.s.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: c.Password})
		if err != nil {
			return 0, fmt.Errorf("no answer from %s to the authenticated REGISTER: %w", r.registrar.String(), err)
		}
		if res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired {
			return 0, fmt.Errorf("the registrar refused the credentials of %s (%d %s)", user, res.StatusCode, res.Reason)
		}
	}
	if res.StatusCode != sip.StatusOK {
		return 0, fmt.Errorf("the registrar answered %d %s", res.StatusCode, res.Reason)
	}
	if expires == 0 {
		return 0, nil
	}
	return grantedExpiry(res, r.contact, expires), nil
}

// grantedExpiry reads the lifetime the registrar gave our binding: the
// expires parameter of our Contact in the 200 OK, else its Expires header,
// else what we asked for.
func grantedExpiry(res *sip.Response, ours sip.Uri, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		for _, v := range splitAddresses(h.Value()) {
			var uri sip.Uri
			params := sip.NewParams()
			if _, err := sip.ParseAddressValue(v, &uri, &params); err != nil {
				continue
			}
			if uri.User != ours.User || uri.Host != ours.Host || (uri.Port != 0 && uri.Port != ours.Port) {
				continue
			}
			if e, ok := params.Get("expires"); ok {
				if n, err := strconv.Atoi(e); err == nil && n > 0 {
					return time.Duration(n) * time.Second
				}
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}
