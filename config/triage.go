package config

// Triage holds the rules that classify a request, give it a priority and
// route it to a person. The triage package compiles them.
type Triage struct {
	// RepeatWindow and RepeatCount raise the priority of a request one step
	// when it is at least the RepeatCount-th request from one contact within
	// RepeatWindow.
	RepeatWindow Duration `toml:"repeat_window"`
	RepeatCount  int      `toml:"repeat_count"`
	// ContactOwner gives a returning customer's new ticket to the staff
	// member who last worked their tickets, when that person is on shift.
	ContactOwner bool `toml:"contact_owner"`
	// ChannelPriority is the priority of a new ticket by the channel it came
	// in by, during opening hours. After hours every new ticket starts at
	// normal.
	ChannelPriority ChannelPriority `toml:"channel_priority"`
	// Categories say what a request is about. The category with the highest
	// score wins; ties go to the one listed first.
	Categories []Category `toml:"categories"`
	// Tags add a tag to every request they match.
	Tags []TagRule `toml:"tags"`
	// Flags raise the priority of every request they match.
	Flags []Flag `toml:"flags"`
	// Extract pulls fields, such as an order number, out of the text.
	Extract []Extract `toml:"extract"`
	// Teams take the tickets of the categories routed to them.
	Teams []Team `toml:"teams"`
	// Shifts say when staff are on shift. A team member without a shift is
	// on shift whenever the shop is open.
	Shifts []Shift `toml:"shifts"`
}

// ChannelPriority holds a priority for each channel: "low", "normal",
// "high" or "urgent".
type ChannelPriority struct {
	Voicemail  string `toml:"voicemail"`
	MissedCall string `toml:"missed_call"`
	SMS        string `toml:"sms"`
	WebForm    string `toml:"web_form"`
	Email      string `toml:"email"`
	Staff      string `toml:"staff"`
	API        string `toml:"api"`
	Cloud      string `toml:"cloud"`
}

// Of returns the priority of the channel named channel, and false for a
// channel it does not know.
func (p ChannelPriority) Of(channel string) (string, bool) {
	switch channel {
	case "voicemail":
		return p.Voicemail, true
	case "missed_call":
		return p.MissedCall, true
	case "sms":
		return p.SMS, true
	case "web_form":
		return p.WebForm, true
	case "email":
		return p.Email, true
	case "staff":
		return p.Staff, true
	case "api":
		return p.API, true
	case "cloud":
		return p.Cloud, true
	}
	return "", false
}

// Category is a rule that says what a request is about.
//
// Text is matched after folding: lower case, accents removed and the Turkish
// dotted and dotless i read as i, so "Ação" matches "acao". Keywords match
// whole words ("esc" does not match "escape"); phrases match a run of whole
// words, whatever punctuation is between them. Each keyword or pattern that
// matches scores 1 and each phrase 2.
type Category struct {
	// Name is the category's name, such as "warranty".
	Name string `toml:"name"`
	// Team is the team the category's tickets are routed to, or "".
	Team string `toml:"team"`
	// Keywords are single words.
	Keywords []string `toml:"keywords"`
	// Phrases are runs of words.
	Phrases []string `toml:"phrases"`
	// Patterns are regular expressions in Go's syntax, matched against the
	// folded text.
	Patterns []string `toml:"patterns"`
	// Tags are added to a ticket of this category.
	Tags []string `toml:"tags"`
	// MinScore is the score a request needs to be in the category; 0 means
	// 1. A category without keywords, phrases and patterns is the fallback:
	// the category of a request that no other category matches.
	MinScore int `toml:"min_score"`
}

// TagRule adds the tag Name to every request it matches. It matches as a
// [Category] does.
type TagRule struct {
	Name     string   `toml:"name"`
	Keywords []string `toml:"keywords"`
	Phrases  []string `toml:"phrases"`
	Patterns []string `toml:"patterns"`
}

// Flag raises the priority of every request it matches to at least
// Priority, and may page staff. It matches as a [Category] does.
type Flag struct {
	Name     string `toml:"name"`
	Priority string `toml:"priority"`
	// Notify pages staff when the flag matches during opening hours.
	Notify   bool     `toml:"notify"`
	Keywords []string `toml:"keywords"`
	Phrases  []string `toml:"phrases"`
	Patterns []string `toml:"patterns"`
}

// Extract pulls one field out of the text of a request.
type Extract struct {
	// Field names the field, in lower case letters and _.
	Field string `toml:"field"`
	// Pattern is a regular expression in Go's syntax, matched against the
	// text as written (not folded). The first of its groups that matches is
	// the value.
	Pattern string `toml:"pattern"`
}

// Team is a group of staff that takes the tickets of some categories.
type Team struct {
	Name string `toml:"name"`
	// Members are staff user names, in the order round robin goes through
	// them.
	Members []string `toml:"members"`
	// Strategy picks the member a new ticket goes to, among the members on
	// shift: "round_robin" (each in turn), "least_open" (the one with fewest
	// open tickets) or "fixed" (always Assignee).
	Strategy string `toml:"strategy"`
	// Assignee is the member who takes every ticket when Strategy is
	// "fixed".
	Assignee string `toml:"assignee"`
}

// Shift is a period, repeating every week, when a staff member is on shift.
type Shift struct {
	// Who is the staff user name.
	Who  string   `toml:"who"`
	Days []string `toml:"days"`
	From string   `toml:"from"`
	To   string   `toml:"to"`
}
