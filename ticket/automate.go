package ticket

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/triage"
	bolt "go.etcd.io/bbolt"
)

// Automator runs the shop's event rules and time rules. The triage
// package's Engine provides it; a Desk without one runs no rules.
type Automator interface {
	// OnEvent returns the event rules that fire for a ticket after a change.
	OnEvent(event string, f triage.Facts, now time.Time) []triage.Firing
	// Timers returns the time rules that will come due for a ticket.
	Timers(f triage.Facts) []triage.Timer
	// Due checks, at fire time, whether a time rule is still due and its
	// conditions hold.
	Due(rule string, f triage.Facts, now time.Time) (triage.Firing, bool)
}

// The events event rules listen to.
const (
	EventCreated       = "created"
	EventMessage       = "message"
	EventStatusChanged = "status_changed"
	EventAssigned      = "assigned"
)

// KindNotifyStaff is the outbox kind of staff notifications (safety flags,
// rules with a notify action, redirection rules). Its payload is a
// StaffNotice.
const KindNotifyStaff = "notify.staff"

// StaffNotice is the payload of a staff notification.
type StaffNotice struct {
	Ticket    uint64   `json:"ticket"`
	TicketRef string   `json:"ticket_ref"`
	Subject   string   `json:"subject"`
	Priority  Priority `json:"priority"`
	Rule      string   `json:"rule"`
	Text      string   `json:"text"`
	// To lists the addresses the notice goes to; empty means the staff
	// addresses of the configuration.
	To []string `json:"to,omitempty"`
}

// maxFirings bounds the event rules one change may set off. The config
// check refuses rules that trigger each other in a loop; this stops, with a
// logged error and an audit event, any loop that slips through.
const maxFirings = 32

// ixDue is the schedule of time rules: the time the ticket's earliest
// time rule comes due, then its number. One entry per ticket keeps the
// schedule to one index page per change.
const ixDue = 'D'

type ruleEvent struct {
	name string
	n    uint64
}

// facts describes tk to the rules.
func facts(tk *Ticket) triage.Facts {
	return triage.Facts{
		Number:           tk.Number,
		Channel:          string(tk.Channel),
		Category:         tk.Category,
		Priority:         string(tk.Priority),
		Status:           string(tk.Status),
		Assignee:         tk.Assignee,
		Tags:             slices.Clone(tk.Tags),
		CreatedAt:        tk.CreatedAt,
		StatusSince:      tk.StatusSince,
		LastInboundAt:    tk.LastInboundAt,
		LastOutboundAt:   tk.LastOutboundAt,
		Fired:            slices.Clone(tk.Fired),
		FirstResponseDue: tk.FirstResponseDue,
		ResolutionDue:    tk.ResolutionDue,
		FirstResponseAt:  tk.FirstResponseAt,
	}
}

// fire records an event of ticket n for the event rules, which run before
// the transaction commits.
func (t *txn) fire(event string, n uint64) {
	if t.d.opts.Automator != nil || t.d.opts.Notifier != nil {
		t.ruleEvents = append(t.ruleEvents, ruleEvent{event, n})
	}
}

// automate runs the event rules for the events of this transaction and for
// the events their own actions cause, in the same transaction.
//
// The customer's notifications for each event are decided first, so that
// an acknowledgement precedes what the rules send.
func (t *txn) automate() error {
	a := t.d.opts.Automator
	fired := 0
	for len(t.ruleEvents) > 0 {
		ev := t.ruleEvents[0]
		t.ruleEvents = t.ruleEvents[1:]
		if err := t.notify(ev.name, ev.n); err != nil {
			return err
		}
		if a == nil {
			continue
		}
		tk, err := t.live(ev.n)
		if errors.Is(err, ErrDeleted) || errors.Is(err, ErrMerged) {
			continue
		}
		if err != nil {
			return err
		}
		for _, f := range a.OnEvent(ev.name, facts(tk), t.now) {
			if fired++; fired > maxFirings {
				t.d.log.Error("event rules stopped: too many firings for one change", "ticket", ev.n, "rule", f.Rule, "limit", maxFirings)
				t.ruleEvents = nil
				return t.eventBy(System, ev.n, "automation", "", "stopped", fmt.Sprintf("more than %d rules fired for one change; rule %s and later ones did not run", maxFirings, f.Rule))
			}
			if err := t.runFiring(ev.n, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// runFiring applies the actions of one rule to ticket n, each audited with
// the rule's name.
func (t *txn) runFiring(n uint64, f triage.Firing) error {
	tk, err := t.live(n)
	if err != nil {
		return err
	}
	old := clone(tk)
	actor := Actor{Kind: ActorRule, Name: f.Rule}
	why := f.Why
	var added []*Message
	for _, act := range f.Actions {
		switch act.Kind {
		case "set_priority":
			p, err := ParsePriority(act.Value)
			if err != nil {
				return fmt.Errorf("rule %s: %w", f.Rule, err)
			}
			if p != tk.Priority {
				if err := t.eventBy(actor, n, "priority", string(tk.Priority), string(p), why); err != nil {
					return err
				}
				tk.Priority = p
			}
		case "tag":
			tag, err := NormalizeTag(act.Value)
			if err != nil {
				return fmt.Errorf("rule %s: %w", f.Rule, err)
			}
			if !slices.Contains(tk.Tags, tag) && len(tk.Tags) < maxTags {
				if err := t.eventBy(actor, n, "tag", "", tag, why); err != nil {
					return err
				}
				tk.Tags = append(tk.Tags, tag)
			}
		case "assign":
			if act.Value != tk.Assignee {
				if err := t.eventBy(actor, n, "assign", tk.Assignee, act.Value, why); err != nil {
					return err
				}
				tk.Assignee = act.Value
				t.fire(EventAssigned, n)
			}
		case "set_status":
			s, err := ParseStatus(act.Value)
			if err != nil {
				return fmt.Errorf("rule %s: %w", f.Rule, err)
			}
			if s == tk.Status {
				continue
			}
			before := tk.Status
			if err := tk.move(s, t.now); err != nil {
				// The ticket moved on since the rule was written for it;
				// say so and go on with the other actions.
				if err := t.eventBy(actor, n, "automation", string(before), "skipped", fmt.Sprintf("%v; %s", err, why)); err != nil {
					return err
				}
				continue
			}
			after := string(s)
			if s == StatusClosed {
				after += " (" + tk.ClosedAs + ")"
			}
			if err := t.eventBy(actor, n, "status", string(before), after, why); err != nil {
				return err
			}
			t.fire(EventStatusChanged, n)
		case "note":
			m, err := t.addMessage(tk, Internal, ChannelStaff, actor.Name, act.Value, nil)
			if err != nil {
				return err
			}
			if err := t.eventBy(actor, n, "note", "", fmt.Sprintf("message %d", m.ID), why); err != nil {
				return err
			}
			added = append(added, m)
		case "reply":
			m, err := t.reply(tk, actor, act.Value, nil, false, false)
			if err != nil {
				// A contact with no address cannot get an automatic reply;
				// that is worth a line in the trail, not a failed change.
				if !errors.Is(err, ErrInvalid) {
					return err
				}
				if err := t.eventBy(actor, n, "automation", "", "skipped", fmt.Sprintf("reply not sent: %v", err)); err != nil {
					return err
				}
				continue
			}
			added = append(added, m)
		case "notify":
			if err := t.notifyStaff(tk, f.Rule, act.Value); err != nil {
				return err
			}
			if err := t.eventBy(actor, n, "notify", "", "staff", act.Value); err != nil {
				return err
			}
		case "breach":
			if err := t.eventBy(actor, n, "sla_breach", "", act.Value, why); err != nil {
				return err
			}
		default:
			return fmt.Errorf("rule %s: unknown action %q", f.Rule, act.Kind)
		}
	}
	if len(added) == 0 && sameTicket(old, tk) {
		return nil
	}
	tk.UpdatedAt = t.now
	if err := t.save(old, tk); err != nil {
		return err
	}
	for _, m := range added {
		t.change(MessageAdded, tk, m)
	}
	if len(added) == 0 {
		t.change(TicketUpdated, tk, nil)
	}
	return nil
}

// notifyStaff queues a staff notification about tk. The caller audits it.
//
// The Notifier may also page staff phones by SMS (the on-call number,
// within its hours); each page is audited.
func (t *txn) notifyStaff(tk *Ticket, rule, text string) error {
	seq, err := t.tx.Bucket(bThread).NextSequence()
	if err != nil {
		return err
	}
	key := strconv.FormatUint(tk.Number, 10) + ":" + strconv.FormatUint(seq, 10)
	if t.d.opts.StaffNotices {
		err = t.enqueue(tk.Number, Effect{
			Kind: KindNotifyStaff,
			Key:  "notify:" + key,
			Payload: StaffNotice{
				Ticket: tk.Number, TicketRef: tk.Ref(), Subject: tk.Subject,
				Priority: tk.Priority, Rule: rule, Text: text,
			},
		})
		if err != nil {
			return err
		}
	}
	if t.d.opts.Notifier == nil {
		return nil
	}
	for _, p := range t.d.opts.Notifier.Pages(*tk, text, t.now) {
		err := t.enqueue(tk.Number, Effect{
			Kind:    DeliverKind(RouteSMS),
			Key:     "page:" + key + ":" + p.To,
			Payload: Delivery{Ticket: tk.Number, TicketRef: tk.Ref(), To: p.To, Body: p.Body},
		})
		if err != nil {
			return err
		}
		if err := t.eventBy(Actor{Kind: ActorRule, Name: rule}, tk.Number, "page", "", p.To, "paged the on-call phone by SMS"); err != nil {
			return err
		}
	}
	return nil
}

// timerKeys returns the schedule entry of tk: when its earliest time rule
// comes due.
func (t *txn) timerKeys(tk *Ticket) [][]byte {
	a := t.d.opts.Automator
	if a == nil || tk.Deleted || tk.MergedInto != 0 {
		return nil
	}
	var first time.Time
	for _, tm := range a.Timers(facts(tk)) {
		if first.IsZero() || tm.Due.Before(first) {
			first = tm.Due
		}
	}
	if first.IsZero() {
		return nil
	}
	return [][]byte{ix(ixDue, timeKey(first), u64(tk.Number))}
}

// versioned is an Automator that names the version of the settings its
// due times depend on; triage.Engine is one.
type versioned interface {
	TimersVersion() string
}

var keyTimersVersion = []byte("timers_version")

// rescheduleIfRulesChanged makes every ticket's schedule entry again when
// the rules that due times depend on changed since the last start. It
// reads every ticket, once, only then.
func (d *Desk) rescheduleIfRulesChanged() error {
	v, ok := d.opts.Automator.(versioned)
	if !ok {
		return nil
	}
	version := []byte(v.TimersVersion())
	return d.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if bytes.Equal(meta.Get(keyTimersVersion), version) {
			return nil
		}
		t := &txn{tx: tx, d: d, now: d.opts.Now().UTC()}
		idx := tx.Bucket(bIndex)
		var stale [][]byte
		c := idx.Cursor()
		for k, _ := c.Seek([]byte{ixDue}); k != nil && k[0] == ixDue; k, _ = c.Next() {
			stale = append(stale, slices.Clone(k))
		}
		for _, k := range stale {
			if err := idx.Delete(k); err != nil {
				return err
			}
		}
		n := 0
		err := tx.Bucket(bTickets).ForEach(func(_, v []byte) error {
			var tk Ticket
			if err := jsonUnmarshal(v, &tk); err != nil {
				return err
			}
			for _, k := range t.timerKeys(&tk) {
				n++
				if err := idx.Put(k, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if meta.Get(keyTimersVersion) != nil {
			d.log.Info("time rules changed: schedules made again", "entries", n, "replaced", len(stale))
		}
		return meta.Put(keyTimersVersion, version)
	})
}

// RunDue fires the time rules due at now: each is checked again, run, and
// marked as fired on its ticket in one transaction, so that it never fires
// twice, across restarts too. It returns how many rules ran.
//
// While the clock is not synchronised no rule runs: its times are not yet
// the shop's.
func (d *Desk) RunDue(now time.Time) (int, error) {
	a := d.opts.Automator
	if a == nil || !d.clockSynced() {
		return 0, nil
	}
	var due [][]byte
	err := d.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bIndex).Cursor()
		prefix := []byte{ixDue}
		limit := ix(ixDue, timeKey(now), u64(^uint64(0)))
		for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix) && string(k) <= string(limit) && len(due) < 64; k, _ = c.Next() {
			due = append(due, slices.Clone(k))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	ran := 0
	for _, k := range due {
		n := beU64(k[9:17])
		err := d.update(System, func(t *txn) error {
			t.now = now.UTC()
			if err := t.tx.Bucket(bIndex).Delete(k); err != nil {
				return err
			}
			// Fire the ticket's due rules earliest first; each firing
			// changes the ticket, so its timers are read afresh.
			for range 16 {
				tk, err := t.live(n)
				if errors.Is(err, ErrNotFound) || errors.Is(err, ErrDeleted) || errors.Is(err, ErrMerged) {
					return nil
				}
				if err != nil {
					return err
				}
				rule, ok := earliestDue(a.Timers(facts(tk)), tk.Fired, t.now)
				if !ok {
					// Nothing more is due. The entry taken may have been
					// made under other rules (the config changed): put
					// back the one today's rules give.
					for _, k := range t.timerKeys(tk) {
						if err := t.tx.Bucket(bIndex).Put(k, nil); err != nil {
							return err
						}
					}
					return nil
				}
				f, fire := a.Due(rule, facts(tk), t.now)
				old := clone(tk)
				tk.Fired = append(tk.Fired, rule)
				if err := t.save(old, tk); err != nil {
					return err
				}
				if fire {
					ran++
					if err := t.runFiring(n, f); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return ran, fmt.Errorf("time rules of ticket #%d: %w", n, err)
		}
	}
	return ran, nil
}

// earliestDue returns the earliest timer due at now that has not fired.
func earliestDue(timers []triage.Timer, fired []string, now time.Time) (string, bool) {
	var best triage.Timer
	for _, tm := range timers {
		if tm.Due.After(now) || slices.Contains(fired, tm.Rule) {
			continue
		}
		if best.Rule == "" || tm.Due.Before(best.Due) {
			best = tm
		}
	}
	return best.Rule, best.Rule != ""
}

// nextDueRule returns when the earliest time rule comes due.
func (d *Desk) nextDueRule() (time.Time, bool) {
	var at time.Time
	var ok bool
	_ = d.db.View(func(tx *bolt.Tx) error {
		prefix := []byte{ixDue}
		k, _ := tx.Bucket(bIndex).Cursor().Seek(prefix)
		if k != nil && hasPrefix(k, prefix) {
			at, ok = time.Unix(0, int64(beU64(k[1:9]))), true
		}
		return nil
	})
	return at, ok
}

// schedulerPoll bounds how long the scheduler sleeps between looks.
const schedulerPoll = 30 * time.Second

// runScheduler fires time rules as they come due until the desk closes.
func (d *Desk) runScheduler() {
	defer d.words.done.Done()
	last := time.Now()
	for {
		wait := schedulerPoll
		if at, ok := d.nextDueRule(); ok {
			wait = min(wait, max(at.Sub(d.opts.Now()), 10*time.Millisecond))
		}
		timer := time.NewTimer(wait)
		select {
		case <-d.words.stop:
			timer.Stop()
			return
		case <-timer.C:
		}
		now := time.Now()
		if wall, mono := elapsed(last, now); jumped(wall, mono) {
			// The wall clock was set (network time arrived, someone set
			// the date): the rules wait a round, so that times corrected
			// meanwhile count and a jump fires nothing by itself.
			d.log.Warn("the clock jumped; time rules wait a round", "by", (wall - mono).Round(time.Second))
			last = now
			continue
		}
		last = now
		if _, err := d.RunDue(d.opts.Now()); err != nil {
			d.log.Error("time rules", "err", err)
		}
	}
}

// openCounts returns the number of open tickets of each staff member.
func openCounts(tx *bolt.Tx) map[string]int {
	out := map[string]int{}
	c := tx.Bucket(bMeta).Cursor()
	prefix := []byte(keyOpenPrefix)
	for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
		if len(v) == 8 && beU64(v) > 0 {
			out[string(k[len(prefix):])] = int(beU64(v))
		}
	}
	return out
}

// lastAssigned returns, per team, the member its round robin gave the last
// ticket.
func lastAssigned(tx *bolt.Tx) map[string]string {
	out := map[string]string{}
	c := tx.Bucket(bMeta).Cursor()
	prefix := []byte(keyRoundRobin)
	for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
		out[string(k[len(prefix):])] = string(v)
	}
	return out
}

// Meta keys of the routing state.
const (
	keyOpenPrefix = "open:" // staff name -> open tickets
	keyRoundRobin = "rr:"   // team -> last member given a ticket
)

// countOpen keeps the open-ticket count of each staff member in step with
// a change from old to tk.
func (t *txn) countOpen(old, tk *Ticket) error {
	holder := func(x *Ticket) string {
		if x == nil || x.Deleted || x.MergedInto != 0 || !x.Status.Active() {
			return ""
		}
		return x.Assignee
	}
	before, after := holder(old), holder(tk)
	if before == after {
		return nil
	}
	meta := t.tx.Bucket(bMeta)
	adjust := func(name string, delta int64) error {
		if name == "" {
			return nil
		}
		k := []byte(keyOpenPrefix + name)
		var v int64
		if cur := meta.Get(k); len(cur) == 8 {
			v = int64(beU64(cur))
		}
		v = max(v+delta, 0)
		if v == 0 {
			return meta.Delete(k)
		}
		return meta.Put(k, u64(uint64(v)))
	}
	if err := adjust(before, -1); err != nil {
		return err
	}
	return adjust(after, 1)
}

// applyDecision applies a triage decision to tk and audits it as one
// event whose steps each name the rule that made them.
func (t *txn) applyDecision(tk *Ticket, dec triage.Decision) error {
	if len(dec.Steps) == 0 {
		return t.applyTriage(tk, dec)
	}
	steps := make([]Step, 0, len(dec.Steps))
	for _, s := range dec.Steps {
		st := Step{What: s.What, After: s.Value, Rule: s.Rule, Why: s.Why}
		switch {
		case s.What == "priority":
			p, err := ParsePriority(s.Value)
			if err != nil {
				return fmt.Errorf("triage rule %s: %w", s.Rule, err)
			}
			st.Before, tk.Priority = string(tk.Priority), p
		case s.What == "category":
			st.Before, tk.Category = tk.Category, s.Value
		case s.What == "team":
			st.Before, tk.Team = tk.Team, s.Value
		case s.What == "assignee":
			st.What, st.Before, tk.Assignee = "assign", tk.Assignee, s.Value
			if team, ok := strings.CutPrefix(s.Rule, "teams/"); ok {
				if err := t.tx.Bucket(bMeta).Put([]byte(keyRoundRobin+team), []byte(s.Value)); err != nil {
					return err
				}
			}
			t.fire(EventAssigned, tk.Number)
		case s.What == "tag":
			tag, err := NormalizeTag(s.Value)
			if err != nil {
				return fmt.Errorf("triage rule %s: %w", s.Rule, err)
			}
			if slices.Contains(tk.Tags, tag) || len(tk.Tags) >= maxTags {
				continue
			}
			tk.Tags, st.After = append(tk.Tags, tag), tag
		case strings.HasPrefix(s.What, "field:"):
			name := strings.TrimPrefix(s.What, "field:")
			if tk.Fields == nil {
				tk.Fields = map[string]string{}
			}
			st.What, st.Before, st.After = "field", tk.Fields[name], name+"="+s.Value
			tk.Fields[name] = s.Value
		case s.What == "after_hours":
			tk.AfterHours = true
		case s.What == "notify":
			if err := t.notifyStaff(tk, s.Rule, s.Why); err != nil {
				return err
			}
			st.After = "staff"
		case s.What == "sla":
		default:
			return fmt.Errorf("triage rule %s: unknown step %q", s.Rule, s.What)
		}
		steps = append(steps, st)
	}
	if !dec.FirstResponseDue.IsZero() {
		tk.FirstResponseDue = dec.FirstResponseDue.UTC()
	}
	if !dec.ResolutionDue.IsZero() {
		tk.ResolutionDue = dec.ResolutionDue.UTC()
	}
	if len(dec.Fields) > 0 && tk.Fields == nil {
		tk.Fields = maps.Clone(dec.Fields)
	}
	if len(steps) == 0 {
		return nil
	}
	var summary []string
	for _, f := range [][2]string{{"priority", string(tk.Priority)}, {"category", tk.Category}, {"assigned", tk.Assignee}} {
		if f[1] != "" {
			summary = append(summary, f[0]+" "+f[1])
		}
	}
	why := fmt.Sprintf("%d decisions by the triage rules", len(steps))
	if len(steps) == 1 {
		why = steps[0].Why
	}
	return t.record(Event{Actor: Actor{Kind: ActorRule, Name: "triage"}, Ticket: tk.Number, Action: "triage",
		After: strings.Join(summary, ", "), Why: why, Steps: steps})
}
