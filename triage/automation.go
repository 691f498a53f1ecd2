package triage

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/config"
)

// The events an automation listens to. The ticket package reports the
// first four as they happen; the timers are found by [Engine.Timers].
const (
	EventCreated       = "created"
	EventMessage       = "message"
	EventStatusChanged = "status_changed"
	EventAssigned      = "assigned"
	TimerNoStaffReply  = "no_staff_reply"
	TimerPendingFor    = "pending_for"
)

// The kinds of [Action].
const (
	ActionSetPriority = "set_priority"
	ActionTag         = "tag"
	ActionAssign      = "assign"
	ActionSetStatus   = "set_status"
	ActionNote        = "note"
	ActionReply       = "reply"
	ActionNotify      = "notify"
	// ActionBreach records that an SLA due time passed; its value is
	// "first_response" or "resolution".
	ActionBreach = "breach"
)

// The SLA timers, as [Timer.Rule] names them.
const (
	SLAEscalateFirstResponse = "sla/escalate_first_response"
	SLAFirstResponse         = "sla/first_response"
	SLAEscalateResolution    = "sla/escalate_resolution"
	SLAResolution            = "sla/resolution"
)

// Facts describe a ticket after a change, as automations see it.
type Facts struct {
	Number   uint64
	Channel  string
	Category string
	Priority string
	Status   string
	Assignee string
	Tags     []string

	CreatedAt     time.Time
	StatusSince   time.Time // when the ticket got its status
	LastInboundAt time.Time // the customer's last message
	// LastOutboundAt is the time of the last staff reply, or zero for none.
	LastOutboundAt time.Time
	// Fired names the timers that already fired for this ticket.
	Fired []string

	FirstResponseDue time.Time
	ResolutionDue    time.Time
	// FirstResponseAt is the time of the first staff reply, or zero.
	FirstResponseAt time.Time
}

// Action is one thing an automation does to a ticket. Kind is one of the
// Action constants; Value is the priority, tag, staff user name or status,
// or the text of a note, reply or page with its placeholders filled in.
type Action struct {
	Kind  string
	Value string
}

// Firing is an automation that applies to a ticket, with its actions.
type Firing struct {
	Rule    string // the automation's name, or an SLA timer's
	Actions []Action
	Why     string // a sentence for the audit trail
}

// Timer is the next time a time rule is due for a ticket.
type Timer struct {
	Rule string // an automation's name, or one of the SLA timer names
	Due  time.Time
}

// automation is a compiled [config.Automation].
type automation struct {
	name    string
	when    string
	after   time.Duration
	cond    config.Conditions
	actions []Action
}

func newAutomation(a config.Automation) (automation, error) {
	au := automation{name: a.Name, when: a.When, after: a.After.Duration, cond: a.If}
	switch a.When {
	case EventCreated, EventMessage, EventStatusChanged, EventAssigned:
	case TimerNoStaffReply, TimerPendingFor:
		if au.after <= 0 {
			return au, fmt.Errorf("%s needs a time after which it fires", a.When)
		}
	default:
		return au, fmt.Errorf("unknown event %q", a.When)
	}
	for i, t := range a.Then {
		switch t.Action {
		case ActionSetPriority:
			if rank(t.Value) < 0 {
				return au, fmt.Errorf("action %d: unknown priority %q", i+1, t.Value)
			}
		case ActionTag, ActionAssign, ActionSetStatus, ActionNote, ActionReply, ActionNotify:
		default:
			return au, fmt.Errorf("action %d: unknown action %q", i+1, t.Action)
		}
		au.actions = append(au.actions, Action{Kind: t.Action, Value: t.Value})
	}
	return au, nil
}

// holds reports whether every condition of the automation holds for the
// ticket at now.
func (e *Engine) holds(a *automation, f Facts, now time.Time) bool {
	anyOf := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	c := &a.cond
	if !anyOf(c.Channel, f.Channel) || !anyOf(c.Category, f.Category) ||
		!anyOf(c.Priority, f.Priority) || !anyOf(c.Status, f.Status) {
		return false
	}
	if len(c.Tag) > 0 && !slices.ContainsFunc(f.Tags, func(t string) bool { return slices.Contains(c.Tag, t) }) {
		return false
	}
	switch c.BusinessHours {
	case "open":
		return e.Open(now)
	case "closed":
		return !e.Open(now)
	}
	return true
}

// OnEvent returns the automations that listen to event ("created",
// "message", "status_changed" or "assigned") and whose conditions hold for
// the ticket f at now, in file order. Timers are no events: they fire
// through [Engine.Due].
func (e *Engine) OnEvent(event string, f Facts, now time.Time) []Firing {
	if event == TimerNoStaffReply || event == TimerPendingFor {
		return nil
	}
	var out []Firing
	for i := range e.automations {
		a := &e.automations[i]
		if a.when == event && e.holds(a, f, now) {
			out = append(out, e.fire(a, f))
		}
	}
	return out
}

// fire returns the firing of an automation for a ticket.
func (e *Engine) fire(a *automation, f Facts) Firing {
	actions := make([]Action, len(a.actions))
	for i, act := range a.actions {
		switch act.Kind {
		case ActionNote, ActionReply, ActionNotify:
			act.Value = e.expand(act.Value, f.Number)
		}
		actions[i] = act
	}
	return Firing{Rule: a.name, Actions: actions, Why: whyEvent(a, f) + conditionsWhy(&a.cond)}
}

// whyEvent says what set an automation off.
func whyEvent(a *automation, f Facts) string {
	switch a.when {
	case EventCreated:
		return "the ticket was created"
	case EventMessage:
		return "the customer wrote"
	case EventStatusChanged:
		return "the status changed to " + f.Status
	case EventAssigned:
		if f.Assignee == "" {
			return "the ticket was unassigned"
		}
		return "the ticket was assigned to " + f.Assignee
	case TimerNoStaffReply:
		return "no staff reply for " + formatDuration(a.after) + " after the customer wrote"
	}
	return "pending for " + formatDuration(a.after)
}

// conditionsWhy lists the conditions that held, for a sentence.
func conditionsWhy(c *config.Conditions) string {
	var parts []string
	for _, x := range []struct {
		name string
		list []string
	}{{"channel", c.Channel}, {"category", c.Category}, {"priority", c.Priority}, {"tag", c.Tag}, {"status", c.Status}} {
		if len(x.list) > 0 {
			parts = append(parts, x.name+" "+strings.Join(x.list, " or "))
		}
	}
	switch c.BusinessHours {
	case "open":
		parts = append(parts, "the shop open")
	case "closed":
		parts = append(parts, "the shop closed")
	}
	if len(parts) == 0 {
		return ""
	}
	return ", with " + strings.Join(parts, ", ")
}

// expand fills in the placeholders of a text: {number}, {shop} and
// {hours}.
func (e *Engine) expand(text string, number uint64) string {
	if !strings.Contains(text, "{") {
		return text
	}
	return strings.NewReplacer(
		"{number}", strconv.FormatUint(number, 10),
		"{shop}", e.shop,
		"{hours}", e.HoursText(),
	).Replace(text)
}

// active reports whether a status still needs work from staff.
func active(status string) bool {
	return status == "new" || status == "open" || status == "pending"
}

// Timers returns the time rules due for a ticket, soonest first: each
// automation timer and SLA timer that has not fired for it (is not in
// f.Fired) and whose due time f defines. An automation's conditions are not
// checked here but by [Engine.Due] when the time comes.
//
//   - no_staff_reply is due after the customer's last message, when no
//     staff reply came after it.
//   - pending_for is due after the ticket became pending, while it is.
//   - sla/escalate_first_response and sla/first_response are due
//     escalate_before ahead of and at FirstResponseDue, while there was no
//     staff reply and the ticket is new, open or pending; escalation is
//     left out for an urgent ticket, which it could not raise.
//   - sla/escalate_resolution and sla/resolution are the same for
//     ResolutionDue, while the ticket is new, open or pending.
func (e *Engine) Timers(f Facts) []Timer {
	var out []Timer
	for i := range e.automations {
		a := &e.automations[i]
		if due, ok := e.timerDue(a, f); ok {
			out = append(out, Timer{Rule: a.name, Due: due})
		}
	}
	for _, rule := range []string{SLAEscalateFirstResponse, SLAFirstResponse, SLAEscalateResolution, SLAResolution} {
		if due, ok := e.slaDue(rule, f); ok {
			out = append(out, Timer{Rule: rule, Due: due})
		}
	}
	slices.SortStableFunc(out, func(a, b Timer) int { return a.Due.Compare(b.Due) })
	return out
}

// timerDue returns when an automation's timer is due for a ticket, and
// false when the automation is no timer, already fired, or its time is not
// defined.
func (e *Engine) timerDue(a *automation, f Facts) (time.Time, bool) {
	if slices.Contains(f.Fired, a.name) {
		return time.Time{}, false
	}
	switch a.when {
	case TimerNoStaffReply:
		if !f.LastInboundAt.IsZero() && f.LastOutboundAt.Before(f.LastInboundAt) {
			return f.LastInboundAt.Add(a.after), true
		}
	case TimerPendingFor:
		if f.Status == "pending" && !f.StatusSince.IsZero() {
			return f.StatusSince.Add(a.after), true
		}
	}
	return time.Time{}, false
}

// slaDue returns when an SLA timer is due for a ticket, and false when it
// already fired or is not defined.
func (e *Engine) slaDue(rule string, f Facts) (time.Time, bool) {
	if slices.Contains(f.Fired, rule) || !active(f.Status) {
		return time.Time{}, false
	}
	escalate := e.escalateBefore > 0 && rank(f.Priority) < 3
	switch rule {
	case SLAEscalateFirstResponse:
		if escalate && f.FirstResponseAt.IsZero() && !f.FirstResponseDue.IsZero() {
			return f.FirstResponseDue.Add(-e.escalateBefore), true
		}
	case SLAFirstResponse:
		if f.FirstResponseAt.IsZero() && !f.FirstResponseDue.IsZero() {
			return f.FirstResponseDue, true
		}
	case SLAEscalateResolution:
		if escalate && !f.ResolutionDue.IsZero() {
			return f.ResolutionDue.Add(-e.escalateBefore), true
		}
	case SLAResolution:
		if !f.ResolutionDue.IsZero() {
			return f.ResolutionDue, true
		}
	}
	return time.Time{}, false
}

// Due checks a timer again when its time comes: it returns the firing of
// rule (an automation's name or an SLA timer's) if the timer is still due
// for the ticket at now, and, for an automation, its conditions hold.
//
// An SLA escalation raises the priority one step (a set_priority action);
// an SLA breach is an action of kind "breach" whose value is
// "first_response" or "resolution".
func (e *Engine) Due(rule string, f Facts, now time.Time) (Firing, bool) {
	if strings.HasPrefix(rule, "sla/") {
		due, ok := e.slaDue(rule, f)
		if !ok || due.After(now) {
			return Firing{}, false
		}
		return e.slaFiring(rule, f), true
	}
	for i := range e.automations {
		a := &e.automations[i]
		if a.name != rule {
			continue
		}
		due, ok := e.timerDue(a, f)
		if !ok || due.After(now) || !e.holds(a, f, now) {
			return Firing{}, false
		}
		return e.fire(a, f), true
	}
	return Firing{}, false
}

// slaFiring returns the firing of an SLA timer that is due.
func (e *Engine) slaFiring(rule string, f Facts) Firing {
	what, deadline := "first response", f.FirstResponseDue
	if rule == SLAEscalateResolution || rule == SLAResolution {
		what, deadline = "resolution", f.ResolutionDue
	}
	at := deadline.In(e.hours.loc).Format("Mon 2 Jan 15:04")
	pending := "no staff reply yet"
	if what == "resolution" {
		pending = "the ticket is not solved yet"
	}
	switch rule {
	case SLAEscalateFirstResponse, SLAEscalateResolution:
		r := rank(f.Priority)
		if r < 0 {
			r = 1 // an unknown priority is taken as normal
		}
		return Firing{
			Rule:    rule,
			Actions: []Action{{Kind: ActionSetPriority, Value: priorityOf(r + 1)}},
			Why:     fmt.Sprintf("%s is due %s, in %s, and %s", what, at, formatDuration(e.escalateBefore), pending),
		}
	}
	return Firing{
		Rule:    rule,
		Actions: []Action{{Kind: ActionBreach, Value: strings.ReplaceAll(what, " ", "_")}},
		Why:     fmt.Sprintf("%s was due %s and %s", what, at, pending),
	}
}
