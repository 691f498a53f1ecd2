package config

// SLA sets how soon tickets must be answered and solved, by priority.
type SLA struct {
	// EscalateBefore raises a ticket's priority one step this long before a
	// due time, when the ticket is not yet answered or solved. 0 turns
	// escalation off.
	EscalateBefore Duration `toml:"escalate_before"`
	// BusinessHours makes the clocks count only opening hours.
	BusinessHours bool      `toml:"business_hours"`
	Low           SLATarget `toml:"low"`
	Normal        SLATarget `toml:"normal"`
	High          SLATarget `toml:"high"`
	Urgent        SLATarget `toml:"urgent"`
}

// SLATarget is the time allowed for one priority.
type SLATarget struct {
	// FirstResponse is the time from the request to the first staff reply.
	FirstResponse Duration `toml:"first_response"`
	// Resolution is the time from the request to the ticket being solved.
	Resolution Duration `toml:"resolution"`
}

// For returns the target of the priority named priority, and false for a
// name that is not a priority.
func (s SLA) For(priority string) (SLATarget, bool) {
	switch priority {
	case "low":
		return s.Low, true
	case "normal":
		return s.Normal, true
	case "high":
		return s.High, true
	case "urgent":
		return s.Urgent, true
	}
	return SLATarget{}, false
}
