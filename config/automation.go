package config

// Automation is a rule that acts on a ticket when something happens to it,
// or when a time passes.
type Automation struct {
	// Name names the rule in the audit trail.
	Name string `toml:"name"`
	// When is the event the rule listens to: "created", "message" (a
	// customer's message joined the ticket), "status_changed", "assigned",
	// or one of the timers "no_staff_reply" (no staff reply for After since
	// the customer's last message) and "pending_for" (pending for After).
	When string `toml:"when"`
	// After is the time of a timer; it is set for the timers only.
	After Duration `toml:"after"`
	// If holds the conditions; every one that is set must hold.
	If Conditions `toml:"if"`
	// Then lists the actions, done in order.
	Then []Action `toml:"then"`
}

// Conditions of an [Automation]. A list holds when the ticket has any of
// its values; an empty list always holds.
type Conditions struct {
	Channel  []string `toml:"channel"`
	Category []string `toml:"category"`
	Priority []string `toml:"priority"`
	// Tag holds when the ticket has any of the tags.
	Tag    []string `toml:"tag"`
	Status []string `toml:"status"`
	// BusinessHours is "open" (only while the shop is open), "closed" (only
	// while it is closed) or "any" ("" is "any").
	BusinessHours string `toml:"business_hours"`
}

// Action is one thing an [Automation] does.
type Action struct {
	// Action is "set_priority", "tag", "assign", "set_status", "note",
	// "reply" or "notify".
	Action string `toml:"action"`
	// Value is the priority, tag, staff user name or status to set, or the
	// text of the note, reply or notification. In a text, {number} stands
	// for the ticket's number, {shop} for the shop's name and {hours} for the
	// opening hours.
	Value string `toml:"value"`
}
