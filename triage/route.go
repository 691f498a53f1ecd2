package triage

import (
	"fmt"
	"slices"
	"time"
)

// route sends a new ticket to the team of its category and, while the shop
// is open, to a member of that team who is on shift. A returning customer's
// ticket goes to the staff member who last worked their tickets, when
// contact_owner is on and that person is in a team and on shift. After
// hours the ticket keeps its team and waits unassigned.
func (e *Engine) route(in Input, open bool, cat int, d *Decision) {
	var tm team
	if cat >= 0 {
		c := e.categories[cat]
		if t, ok := e.teams[c.team]; ok {
			tm = t
			d.Team = t.name
			d.step("team", t.name, "categories/"+c.name, "category "+c.name+" goes to team "+t.name)
		}
	}
	if !open {
		return
	}
	at := in.ReceivedAt
	if owner := in.ContactOwner; e.contactOwner && owner != "" && e.members[owner] && e.onShift(owner, at) {
		d.Assignee = owner
		d.step("assignee", owner, "contact_owner", owner+" last worked this contact's tickets and is on shift")
		return
	}
	if tm.name == "" {
		return
	}
	rule := "teams/" + tm.name
	switch tm.strategy {
	case "fixed":
		if tm.assignee != "" {
			d.Assignee = tm.assignee
			d.step("assignee", tm.assignee, rule, "team "+tm.name+" gives every ticket to "+tm.assignee)
		}
	case "least_open":
		best := ""
		for _, m := range tm.members {
			if e.onShift(m, at) && (best == "" || in.OpenByStaff[m] < in.OpenByStaff[best]) {
				best = m
			}
		}
		if best != "" {
			d.Assignee = best
			d.step("assignee", best, rule, fmt.Sprintf("%s has the fewest open tickets (%d) of team %s on shift", best, in.OpenByStaff[best], tm.name))
		}
	default: // round_robin
		n := len(tm.members)
		start := slices.Index(tm.members, in.LastAssigned[tm.name]) + 1 // 0 when nobody had one yet
		for i := range n {
			m := tm.members[(start+i)%n]
			if e.onShift(m, at) {
				d.Assignee = m
				d.step("assignee", m, rule, "next on shift in team "+tm.name+"'s round robin")
				return
			}
		}
	}
}

// onShift reports whether a staff member is on shift at t: within one of
// their shifts, or, for someone without shifts, while the shop is open.
// Nobody is on shift on a holiday.
func (e *Engine) onShift(who string, t time.Time) bool {
	w, ok := e.shifts[who]
	if !ok {
		return e.Open(t)
	}
	local := t.In(e.hours.loc)
	if e.hours.holiday(local) {
		return false
	}
	_, in := w.at(local.Weekday(), minute(local))
	return in
}
