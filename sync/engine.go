package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	stdsync "sync"
	"time"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
)

// Kind is the outbox kind of target name's rows.
func Kind(name string) string { return "sync." + name }

// Actor is who a change made in target name is audited as.
func Actor(name string) ticket.Actor { return ticket.Actor{Kind: ticket.ActorRemote, Name: name} }

// Planner queues, for each committed change, a row for each target saying
// "this ticket changed". A change that came from a target queues nothing
// for that target.
func Planner(names []string) ticket.Planner {
	return ticket.PlannerFunc(func(c ticket.Change) []ticket.Effect {
		key := fmt.Sprintf("%s:%d:%d", c.Kind, c.Ticket.Number, c.At.UnixNano())
		if c.Message != nil {
			key += fmt.Sprintf(":%d", c.Message.ID)
		}
		var out []ticket.Effect
		for _, name := range names {
			if c.Actor.Kind == ticket.ActorRemote && c.Actor.Name == name {
				continue
			}
			out = append(out, ticket.Effect{Kind: Kind(name), Key: key, Payload: c.Ticket.Number})
		}
		return out
	})
}

// Named is a configured target.
type Named struct {
	Name   string
	Type   string // zendesk, freshdesk, hubspot, webhook
	Target Target
	// TwoWay polls the target for changes made there.
	TwoWay bool
}

// Options configure the Engine.
type Options struct {
	// Parallel is how many tickets are copied to one target at a time.
	Parallel int
	// PollInterval is how often a two-way target is asked for changes.
	PollInterval time.Duration
	// ProbeMin and ProbeMax bound the wait between probes of a target
	// that is offline: it starts at ProbeMin and doubles up to ProbeMax.
	// Refused credentials are probed every AuthProbe.
	ProbeMin, ProbeMax, AuthProbe time.Duration
	// Health receives each target's state as "sync NAME".
	Health *health.Registry
	Logger *slog.Logger
	Now    func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Minute
	}
	if o.ProbeMin <= 0 {
		o.ProbeMin = 5 * time.Second
	}
	if o.ProbeMax < o.ProbeMin {
		o.ProbeMax = max(time.Minute, o.ProbeMin)
	}
	if o.AuthProbe <= 0 {
		o.AuthProbe = 5 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Engine copies tickets to every target and applies what their staff did.
type Engine struct {
	desk    *ticket.Desk
	store   store
	opts    Options
	runners []*runner
}

// New returns an engine for the targets. Their rows are queued by
// [Planner] with the same names, registered when the Desk was opened.
func New(desk *ticket.Desk, targets []Named, o Options) (*Engine, error) {
	o = o.withDefaults()
	st, err := newStore(desk.DB())
	if err != nil {
		return nil, err
	}
	e := &Engine{desk: desk, store: st, opts: o}
	seen := make(map[string]bool)
	for _, t := range targets {
		if t.Name == "" || seen[t.Name] {
			return nil, fmt.Errorf("sync: target name %q is empty or used twice", t.Name)
		}
		seen[t.Name] = true
		e.runners = append(e.runners, &runner{
			e: e, Named: t, kind: Kind(t.Name),
			log:   o.Logger.With("target", t.Name),
			state: StateOnline, since: o.Now(),
		})
	}
	return e, nil
}

// Run copies and polls until ctx ends.
func (e *Engine) Run(ctx context.Context) {
	var wg stdsync.WaitGroup
	for _, r := range e.runners {
		r.report()
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.consume(ctx)
		}()
		if r.TwoWay {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.poll(ctx)
			}()
		}
	}
	wg.Wait()
}

// The states of a target.
const (
	StateOnline  = "online"
	StateOffline = "offline"      // no answer: waiting for a probe to succeed
	StateRefused = "refused"      // the credentials were refused
	StateWaiting = "rate limited" // the vendor asked to wait
)

// TargetStatus is what staff see of a target.
type TargetStatus struct {
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	State     string    `json:"state"`
	Since     time.Time `json:"since"`
	LastError string    `json:"last_error,omitempty"`
	Queued    int       `json:"queued"`
	Copied    uint64    `json:"copied"`  // rows delivered since start
	Applied   uint64    `json:"applied"` // changes from the target applied since start
	LastPoll  time.Time `json:"last_poll,omitzero"`
}

// Status returns the state of each target.
func (e *Engine) Status() []TargetStatus {
	out := make([]TargetStatus, 0, len(e.runners))
	for _, r := range e.runners {
		out = append(out, r.status())
	}
	return out
}

// Link returns the address of ticket n's copy in target name, or "".
func (e *Engine) Link(name, remoteID string) string {
	for _, r := range e.runners {
		if r.Name == name && remoteID != "" {
			return r.Target.Link(remoteID)
		}
	}
	return ""
}

// Metrics returns the targets' gauges and counters.
func (e *Engine) Metrics() []health.Metric {
	var out []health.Metric
	for _, r := range e.runners {
		s := r.status()
		l := map[string]string{"target": s.Name, "type": s.Type}
		online := 0.0
		if s.State == StateOnline {
			online = 1
		}
		offlineFor := 0.0
		if s.State != StateOnline {
			offlineFor = e.opts.Now().Sub(s.Since).Seconds()
		}
		out = append(out,
			health.Metric{Name: "counterdesk_sync_online", Help: "1 when the sync target answers, 0 while it is offline, refuses the credentials or rate-limits.", Type: "gauge", Labels: l, Value: online},
			health.Metric{Name: "counterdesk_sync_offline_seconds", Help: "How long the sync target has not been online, 0 while it is.", Type: "gauge", Labels: l, Value: offlineFor},
			health.Metric{Name: "counterdesk_sync_queued", Help: "Outbox rows waiting to be copied to the sync target.", Type: "gauge", Labels: l, Value: float64(s.Queued)},
			health.Metric{Name: "counterdesk_sync_copied_total", Help: "Outbox rows copied to the sync target since start.", Type: "counter", Labels: l, Value: float64(s.Copied)},
			health.Metric{Name: "counterdesk_sync_applied_total", Help: "Changes made in the sync target (status, replies) applied on the box since start.", Type: "counter", Labels: l, Value: float64(s.Applied)},
		)
	}
	return out
}

// runner is one target's consumer and poller.
type runner struct {
	Named
	e    *Engine
	kind string
	log  *slog.Logger

	// tickets serialises the copying and the polling of one ticket, so
	// that neither overwrites the progress the other just saved.
	tickets [64]stdsync.Mutex

	mu        stdsync.Mutex
	state     string
	since     time.Time
	lastError string
	resumeAt  time.Time // StateWaiting: when the vendor allows requests again
	copied    uint64
	applied   uint64
	lastPoll  time.Time
}

func (r *runner) status() TargetStatus {
	queued, _ := r.e.desk.Pending(r.kind)
	r.mu.Lock()
	defer r.mu.Unlock()
	return TargetStatus{
		Name: r.Name, Type: r.Type, State: r.state, Since: r.since, LastError: r.lastError,
		Queued: queued, Copied: r.copied, Applied: r.applied, LastPoll: r.lastPoll,
	}
}

// setState records a new state and reports it.
func (r *runner) setState(state string, err error) {
	r.mu.Lock()
	changed := r.state != state
	if changed {
		r.state, r.since = state, r.e.opts.Now()
	}
	if err != nil {
		r.lastError = err.Error()
	} else if state == StateOnline {
		r.lastError = ""
	}
	r.mu.Unlock()
	if changed {
		switch state {
		case StateOnline:
			r.log.Info("sync target online")
		default:
			r.log.Warn("sync target "+state, "err", err)
		}
	}
	r.report()
}

// report writes the target's state to the health registry.
func (r *runner) report() {
	h := r.e.opts.Health
	if h == nil {
		return
	}
	s := r.status()
	name := "sync " + r.Name
	at := s.Since.In(time.Local).Format("2 Jan 15:04")
	switch s.State {
	case StateOnline:
		h.Set(name, health.OK, fmt.Sprintf("%s: online, %d queued, %d copied since start", r.Type, s.Queued, s.Copied))
	case StateOffline:
		h.Set(name, health.Degraded, fmt.Sprintf("%s: offline since %s, %d queued; copies go out when it answers again (last error: %s)", r.Type, at, s.Queued, s.LastError))
	case StateRefused:
		h.Set(name, health.Down, fmt.Sprintf("%s: credentials refused since %s, %d queued; check the token (%s)", r.Type, at, s.Queued, s.LastError))
	case StateWaiting:
		h.Set(name, health.Degraded, fmt.Sprintf("%s: rate limited by the helpdesk, %d queued", r.Type, s.Queued))
	}
}

// batchPerWorker is how many rows a consumer claims per worker at a time.
const batchPerWorker = 8

// consume copies the target's rows until ctx ends.
func (r *runner) consume(ctx context.Context) {
	parallel := r.e.opts.Parallel
	for ctx.Err() == nil {
		r.mu.Lock()
		state, resume := r.state, r.resumeAt
		r.mu.Unlock()
		switch state {
		case StateOffline, StateRefused:
			r.recover(ctx)
			continue
		case StateWaiting:
			if !sleep(ctx, resume.Sub(r.e.opts.Now())) {
				return
			}
			r.setState(StateOnline, nil)
		}
		rows, err := r.e.desk.Claim(r.kind, parallel*batchPerWorker)
		if err != nil {
			r.log.Error("sync: claim", "err", err)
			if !sleep(ctx, 5*time.Second) {
				return
			}
			continue
		}
		if len(rows) == 0 {
			r.report()
			if err := r.e.desk.WaitDue(ctx, r.kind); err != nil {
				return
			}
			continue
		}
		// One ticket's rows all say "bring ticket N up to date": they go to
		// one worker, and different tickets to different workers.
		var order []uint64
		groups := make(map[uint64][]ticket.OutboxRow)
		for _, row := range rows {
			if _, ok := groups[row.Ticket]; !ok {
				order = append(order, row.Ticket)
			}
			groups[row.Ticket] = append(groups[row.Ticket], row)
		}
		sem := make(chan struct{}, parallel)
		var wg stdsync.WaitGroup
		for _, n := range order {
			sem <- struct{}{}
			wg.Add(1)
			go func(rows []ticket.OutboxRow) {
				defer func() { <-sem; wg.Done() }()
				r.deliver(ctx, rows)
			}(groups[n])
		}
		wg.Wait()
		r.report()
	}
}

// deliver brings one ticket up to date and answers its rows.
func (r *runner) deliver(ctx context.Context, rows []ticket.OutboxRow) {
	d := r.e.desk
	err := r.syncTicket(ctx, rows[0].Ticket)
	var limited *RateLimitError
	release := func(at time.Time) {
		for _, row := range rows {
			if err := d.Release(row.ID, row.Lease, at); err != nil && !errors.Is(err, ticket.ErrLeaseLost) {
				r.log.Error("sync: release row", "id", row.ID, "err", err)
			}
		}
	}
	now := r.e.opts.Now()
	switch {
	case err == nil:
		for _, row := range rows {
			if err := d.Ack(row.ID, row.Lease); err != nil && !errors.Is(err, ticket.ErrLeaseLost) {
				r.log.Error("sync: ack row", "id", row.ID, "err", err)
			}
		}
		r.mu.Lock()
		r.copied += uint64(len(rows))
		r.mu.Unlock()
	case ctx.Err() != nil:
		release(now) // stopping: the rows wait for the next start, not for their lease
	case unreachable(err) != "":
		r.setState(unreachable(err), err)
		release(now)
	case errors.As(err, &limited):
		r.mu.Lock()
		if at := now.Add(limited.Wait); at.After(r.resumeAt) {
			r.resumeAt = at
		}
		r.mu.Unlock()
		r.setState(StateWaiting, err)
		release(now.Add(limited.Wait))
	default:
		// The first row carries the failure (retried with backoff, or
		// parked with the vendor's text when permanent); the others said
		// the same thing and are done.
		r.log.Warn("sync: copy failed", "ticket", rows[0].Ticket, "attempt", rows[0].Attempts+1, "err", err)
		if err := d.Fail(rows[0].ID, rows[0].Lease, err); err != nil && !errors.Is(err, ticket.ErrLeaseLost) {
			r.log.Error("sync: fail row", "id", rows[0].ID, "err", err)
		}
		for _, row := range rows[1:] {
			if err := d.Ack(row.ID, row.Lease); err != nil && !errors.Is(err, ticket.ErrLeaseLost) {
				r.log.Error("sync: ack row", "id", row.ID, "err", err)
			}
		}
	}
}

// unreachable returns the state a target is in when a request failed
// with err: StateOffline for no answer, StateRefused for refused
// credentials, or "" when the target answered.
func unreachable(err error) string {
	var offline *OfflineError
	var httpErr *HTTPError
	switch {
	case errors.As(err, &offline):
		return StateOffline
	case errors.As(err, &httpErr) && httpErr.AuthError():
		return StateRefused
	}
	return ""
}

// recover probes an offline target, waiting longer between probes, until
// it answers (or ctx ends).
func (r *runner) recover(ctx context.Context) {
	wait := r.e.opts.ProbeMin
	for {
		r.mu.Lock()
		state := r.state
		r.mu.Unlock()
		if state == StateRefused {
			wait = r.e.opts.AuthProbe
		}
		if !sleep(ctx, jitter(wait)) {
			return
		}
		err := r.Target.Probe(ctx)
		if ctx.Err() != nil {
			return
		}
		state = unreachable(err)
		if state == "" {
			// Any other answer means the target is reachable again.
			r.setState(StateOnline, nil)
			return
		}
		r.setState(state, err)
		wait = min(wait*2, r.e.opts.ProbeMax)
	}
}

// jitter returns d give or take a tenth.
func jitter(d time.Duration) time.Duration {
	if d < 10 {
		return d
	}
	return d - d/10 + rand.N(d/5)
}

// sleep waits d or until ctx ends, reporting whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// syncTicket brings the copy of ticket n in the target up to date: the
// ticket first, then each later message in order, then its fields.
func (r *runner) syncTicket(ctx context.Context, n uint64) error {
	lock := &r.tickets[n%uint64(len(r.tickets))]
	lock.Lock()
	defer lock.Unlock()
	d, st := r.e.desk, r.e.store
	th, err := d.Thread(n)
	if errors.Is(err, ticket.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if th.Ticket.Deleted {
		return nil // deleted on the box: its copy stays as it was
	}
	p, err := st.progress(r.Name, n)
	if err != nil {
		return err
	}
	tk := &Ticket{Ticket: th.Ticket, Contact: th.Contact}
	msgs := th.Messages
	slices.SortFunc(msgs, func(a, b ticket.Message) int { return cmpU64(a.ID, b.ID) })

	if p.Remote == "" {
		var first *Message
		if len(msgs) > 0 {
			first, err = r.message(&msgs[0])
			if err != nil {
				return err
			}
		} else {
			first = &Message{Message: ticket.Message{Ticket: n, Direction: ticket.Incoming, Channel: th.Ticket.Channel, At: th.Ticket.CreatedAt}}
		}
		if p.Creating {
			// An earlier attempt may have made it: look before making it again.
			id, err := r.Target.Find(ctx, tk)
			if err != nil {
				return fmt.Errorf("find %s: %w", th.Ticket.Ref(), err)
			}
			p.Remote = id
		}
		if p.Remote == "" {
			p.Creating = true
			if err := st.save(r.Name, n, &p); err != nil {
				return err
			}
			id, err := r.Target.Create(ctx, tk, first)
			if err != nil {
				return fmt.Errorf("create %s: %w", th.Ticket.Ref(), err)
			}
			p.Remote = id
		}
		p.Creating = false
		p.Last = first.ID
		p.Status, p.Priority, p.Tags = string(tk.Status), string(tk.Priority), slices.Clone(tk.Tags)
		if err := st.save(r.Name, n, &p); err != nil {
			return err
		}
		if err := d.SetRemote(ctx, Actor(r.Name), n, r.Name, p.Remote); err != nil && !errors.Is(err, ticket.ErrNotFound) {
			return err
		}
	}

	for i := range msgs {
		m := &msgs[i]
		if m.ID <= p.Last {
			continue
		}
		if m.Meta["remote"] == r.Name {
			p.Last = m.ID // written in this target: it has it
			if err := st.save(r.Name, n, &p); err != nil {
				return err
			}
			continue
		}
		sm, err := r.message(m)
		if err != nil {
			return err
		}
		if p.Posting == m.ID {
			id, err := r.posted(ctx, &p, sm)
			if err != nil {
				return err
			}
			if id != "" {
				p.Last, p.Posting, p.Made = m.ID, 0, remember(p.Made, id)
				if err := st.save(r.Name, n, &p); err != nil {
					return err
				}
				continue
			}
		}
		p.Posting = m.ID
		if err := st.save(r.Name, n, &p); err != nil {
			return err
		}
		id, err := r.Target.Post(ctx, p.Remote, tk, sm)
		if err != nil {
			return fmt.Errorf("post message %d of %s: %w", m.ID, th.Ticket.Ref(), err)
		}
		p.Last, p.Posting = m.ID, 0
		if id != "" {
			p.Made = remember(p.Made, id)
		}
		if err := st.save(r.Name, n, &p); err != nil {
			return err
		}
	}

	if p.Status != string(tk.Status) || p.Priority != string(tk.Priority) || !slices.Equal(p.Tags, tk.Tags) {
		if err := r.Target.Update(ctx, p.Remote, tk); err != nil {
			return fmt.Errorf("update %s: %w", th.Ticket.Ref(), err)
		}
		p.Status, p.Priority, p.Tags = string(tk.Status), string(tk.Priority), slices.Clone(tk.Tags)
		if err := st.save(r.Name, n, &p); err != nil {
			return err
		}
	}
	return nil
}

// posted looks in the remote ticket for a message an earlier attempt may
// have posted: one with the same text that the box does not know yet. It
// returns its remote id, or "".
func (r *runner) posted(ctx context.Context, p *progress, m *Message) (string, error) {
	remote, err := r.Target.Messages(ctx, p.Remote)
	if err != nil {
		return "", fmt.Errorf("list messages of remote ticket %s: %w", p.Remote, err)
	}
	want := normalize(m.Text())
	for _, rm := range remote {
		if rm.ID != "" && slices.Contains(p.Made, rm.ID) {
			continue
		}
		if normalize(rm.Body) == want {
			return cmpOr(rm.ID, "?"), nil
		}
	}
	return "", nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// normalize folds white space, which helpdesks rewrite.
func normalize(s string) string { return strings.Join(strings.Fields(s), " ") }

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// message returns m with its attachments' files.
func (r *runner) message(m *ticket.Message) (*Message, error) {
	out := &Message{Message: *m}
	for _, a := range m.Attachments {
		meta, path, err := r.e.desk.Attachment(a.ID)
		if err != nil {
			return nil, fmt.Errorf("attachment %s of message %d: %w", a.Name, m.ID, err)
		}
		out.Files = append(out.Files, File{Name: a.Name, Type: meta.ContentType, Size: meta.Size, Path: path})
	}
	return out, nil
}

// poll asks the target for changes every poll interval while it is online.
func (r *runner) poll(ctx context.Context) {
	for sleep(ctx, jitter(r.e.opts.PollInterval)) {
		r.mu.Lock()
		online := r.state == StateOnline
		r.mu.Unlock()
		if !online {
			continue
		}
		if err := r.pollOnce(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("sync: poll for changes", "err", err)
			if state := unreachable(err); state != "" {
				r.setState(state, err)
			}
		}
	}
}

// pollOnce applies the changes made in the target since the last poll.
func (r *runner) pollOnce(ctx context.Context) error {
	st := r.e.store
	cursor, err := st.cursor(r.Name)
	if err != nil {
		return err
	}
	changes, next, err := r.Target.Changes(ctx, cursor)
	if err != nil {
		return err
	}
	for _, ch := range changes {
		if err := r.apply(ctx, ch); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.lastPoll = r.e.opts.Now()
	r.mu.Unlock()
	if next != cursor {
		return st.setCursor(r.Name, next)
	}
	return nil
}

// apply makes one remote ticket's changes on the box, audited as coming
// from the target, and records them as what the target has, so that they
// are never copied back.
func (r *runner) apply(ctx context.Context, ch RemoteChange) error {
	d, st := r.e.desk, r.e.store
	n, err := st.byRemote(r.Name, ch.ID)
	if err != nil {
		return err
	}
	if n == 0 && ch.ExternalID != "" {
		if n, err = d.FindUUID(ch.ExternalID); errors.Is(err, ticket.ErrNotFound) {
			n, err = 0, nil
		}
		if err != nil {
			return err
		}
	}
	if n == 0 {
		return nil // not a ticket of the box's
	}
	lock := &r.tickets[n%uint64(len(r.tickets))]
	lock.Lock()
	defer lock.Unlock()
	p, err := st.progress(r.Name, n)
	if err != nil {
		return err
	}
	if p.Remote == "" {
		p.Remote = ch.ID
	}
	actor := Actor(r.Name)
	for _, reply := range ch.Replies {
		if reply.ID == "" || slices.Contains(p.Made, reply.ID) || slices.Contains(p.Seen, reply.ID) {
			continue
		}
		body := strings.TrimSpace(reply.Body)
		if body == "" {
			p.Seen = remember(p.Seen, reply.ID)
			continue
		}
		_, err := d.Reply(ctx, actor, n, ticket.Reply{Body: body, Remote: &ticket.RemoteRef{Target: r.Name, ID: reply.ID, Delivered: reply.Delivered}})
		if errors.Is(err, ticket.ErrInvalid) || errors.Is(err, ticket.ErrDeleted) || errors.Is(err, ticket.ErrMerged) {
			// The box cannot send it (no address, the contact texted STOP,
			// the ticket is gone): keep it as a note for staff instead.
			r.log.Warn("sync: reply from the helpdesk not sent", "ticket", n, "err", err)
			note := fmt.Sprintf("Reply written in %s by %s was not sent: %v\n\n%s", r.Name, cmpOr(reply.Author, "staff"), err, body)
			if _, nerr := d.AddNote(ctx, actor, n, note); nerr != nil && !errors.Is(nerr, ticket.ErrDeleted) && !errors.Is(nerr, ticket.ErrMerged) {
				return nerr
			}
		} else if err != nil {
			return err
		}
		p.Seen = remember(p.Seen, reply.ID)
		r.mu.Lock()
		r.applied++
		r.mu.Unlock()
	}
	tk, err := d.Get(n)
	if err != nil {
		return err
	}
	// A helpdesk without a "new" status (Freshdesk) reports a new ticket
	// as open: that is no change.
	sameAsNew := ch.Status == ticket.StatusOpen && tk.Status == ticket.StatusNew
	if ch.Status != "" && string(ch.Status) != p.Status && !sameAsNew {
		p.Status = string(ch.Status)
		if ch.Status != tk.Status && !tk.Deleted {
			if _, err := d.SetStatus(ctx, actor, n, ch.Status, "changed in "+r.Name); err != nil {
				var te *ticket.TransitionError
				if !errors.As(err, &te) && !errors.Is(err, ticket.ErrInvalid) && !errors.Is(err, ticket.ErrDeleted) && !errors.Is(err, ticket.ErrMerged) {
					return err
				}
				r.log.Warn("sync: status from the helpdesk not applied", "ticket", n, "status", ch.Status, "err", err)
			} else {
				r.mu.Lock()
				r.applied++
				r.mu.Unlock()
			}
		}
	}
	return st.save(r.Name, n, &p)
}
