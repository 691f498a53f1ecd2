// Package triage decides what a request is about, how urgent it is and who
// takes it. Its functions are pure: they look only at the request and at the
// rules they were given, so the ticket package can call them inside a
// transaction and tests can call them with a table.
package triage

import "time"

// Priorities, lowest first. The ticket package stores the same words.
const (
	PriorityLow    = "low"
	PriorityNormal = "normal"
	PriorityHigh   = "high"
	PriorityUrgent = "urgent"
)

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
}

// Decision is what triage concluded. Empty fields leave the ticket as it is.
type Decision struct {
	Priority string   // one of the Priority constants, or ""
	Category string   // a configured category name, or ""
	Team     string   // team the ticket is routed to, or ""
	Assignee string   // staff user name, or ""
	Tags     []string // tags to add
	Rule     string   // name of the rule that decided, for the audit trail
	Why      string   // a sentence a person can read in the audit trail
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
