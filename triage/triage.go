// Package triage decides what a request is about, how urgent it is and who
// takes it. Its functions are pure: they look only at the request and at the
// rules they were given, so the ticket package can call them inside a
// transaction and tests can call them with a table. Time comes in with the
// request; nothing here reads the clock.
//
// [New] compiles the rules of a configuration into an [Engine], which
// classifies requests ([Engine.Triage]), knows the opening hours
// ([Engine.Open]) and runs automations ([Engine.OnEvent], [Engine.Timers],
// [Engine.Due]). [Default] is the triage used when there are no rules.
package triage

import "time"

// Priorities, lowest first. The ticket package stores the same words.
const (
	PriorityLow    = "low"
	PriorityNormal = "normal"
	PriorityHigh   = "high"
	PriorityUrgent = "urgent"
)

// TagAfterHours is the tag given to a new ticket that arrived while the shop
// was closed.
const TagAfterHours = "after-hours"

// Input is what triage sees of an inbound request.
type Input struct {
	Channel    string    // voicemail, missed_call, sms, web_form, email, staff, api, cloud
	Subject    string    // may be empty (SMS, calls)
	Body       string    // message text
	Transcript string    // voicemail transcript, if any
	Name       string    // contact name, if known
	Phone      string    // contact phone in E.164, if known
	Email      string    // contact email, if known
	ReceivedAt time.Time // when the peer handed the request over
	NewTicket  bool      // false when the request joins an existing ticket

	// Recent holds the times of earlier requests from this contact, newest
	// first, at most 16.
	Recent []time.Time
	// ContactOwner is the staff member who last worked this contact's
	// tickets, or "".
	ContactOwner string
	// OpenByStaff counts the open (new, open or pending) tickets of each
	// staff member.
	OpenByStaff map[string]int
	// LastAssigned holds, for each team, the member its round robin gave
	// the last ticket to.
	LastAssigned map[string]string
	// Priority is the ticket's current priority, or "" for a new ticket.
	Priority string
	// Matches, when set, is what Engine.Match found in this same text;
	// Triage then does not read the text again.
	Matches *Matches
}

// Step is one decision of triage, audited on its own.
type Step struct {
	// What the step decided: "priority", "category", "team", "assignee",
	// "tag", "field:<name>", "after_hours", "notify" or "sla".
	What string
	// Value is the value decided, such as "urgent" or "lipo".
	Value string
	// Rule names the rule that made the decision: "categories/warranty",
	// "tags/lipo", "flags/safety", "extract/order_number",
	// "channel_priority", "repeat_contact", "teams/workshop",
	// "contact_owner", "hours" or "sla/high".
	Rule string
	// Why is a sentence for staff, such as `matched "swollen battery" in
	// the body`.
	Why string
}

// Decision is what triage concluded. Empty fields leave the ticket as it is.
type Decision struct {
	Priority string   // one of the Priority constants, or ""
	Category string   // a configured category name, or ""
	Team     string   // team the ticket is routed to, or ""
	Assignee string   // staff user name, or ""
	Tags     []string // tags to add

	// Fields are the values pulled out of the text, by field name, such as
	// "order_number".
	Fields map[string]string
	// AfterHours is set when the request arrived while the shop was closed.
	AfterHours bool
	// Notify asks to page staff now, because a flag that notifies matched.
	// It is never set after hours.
	Notify bool
	// FirstResponseDue and ResolutionDue are the SLA due times of a new
	// ticket, from the SLA of its priority. They are zero for a request that
	// joins a ticket.
	FirstResponseDue time.Time
	ResolutionDue    time.Time
	// Steps lists each decision with the rule that made it, in the order
	// they were made.
	Steps []Step

	Rule string // name of the rule that set the priority, for the audit trail
	Why  string // a sentence a person can read in the audit trail
}

// Default is the triage used when no rules are configured: every new request
// gets normal priority and nothing else.
type Default struct{}

// Triage implements the ticket package's Triager.
func (Default) Triage(in Input) Decision {
	if !in.NewTicket {
		return Decision{}
	}
	return Decision{
		Priority: PriorityNormal,
		Rule:     "default",
		Why:      "no triage rules configured; new requests get normal priority",
	}
}

// priorities lists the priorities, lowest first; a priority's rank is its
// index.
func priorities() [4]string {
	return [4]string{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}
}

// rank returns the rank of a priority, from 0 (low) to 3 (urgent), or -1
// for a word that is not a priority.
func rank(p string) int {
	switch p {
	case PriorityLow:
		return 0
	case PriorityNormal:
		return 1
	case PriorityHigh:
		return 2
	case PriorityUrgent:
		return 3
	}
	return -1
}

// priorityOf returns the priority of a rank.
func priorityOf(r int) string {
	return priorities()[max(0, min(r, 3))]
}
