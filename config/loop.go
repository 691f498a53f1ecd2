package config

import (
	"slices"
	"strings"
)

// causes returns the event an action causes on the ticket it acts on, or
// "". A reply goes out to the customer and is no message event; notes, tags
// and priorities cause no event.
func causes(action string) string {
	switch action {
	case "set_status":
		return "status_changed"
	case "assign":
		return "assigned"
	}
	return ""
}

// loop is a rule that is part of a cycle of automations.
type loop struct {
	rule int    // index of the rule in the automations
	path string // the cycle from the rule back to it: "a -> b -> a"
}

// loops finds the automations that can trigger themselves: a rule listens to
// an event, and its actions cause that event, directly or through other
// rules. Conditions are ignored: a cycle is refused even when the conditions
// of its rules might never all hold. It returns each rule in a cycle once,
// in file order, with the shortest cycle through it.
func loops(rules []Automation) []loop {
	// next[i] lists the rules that an action of rule i triggers.
	next := make([][]int, len(rules))
	for i, r := range rules {
		var events []string
		for _, a := range r.Then {
			if ev := causes(a.Action); ev != "" && !slices.Contains(events, ev) {
				events = append(events, ev)
			}
		}
		for j, other := range rules {
			if slices.Contains(events, other.When) {
				next[i] = append(next[i], j)
			}
		}
	}
	var found []loop
	for i := range rules {
		if cycle := shortestCycle(next, i); cycle != nil {
			names := make([]string, len(cycle))
			for k, j := range cycle {
				names[k] = rules[j].Name
			}
			found = append(found, loop{rule: i, path: strings.Join(names, " -> ")})
		}
	}
	return found
}

// shortestCycle returns the shortest path from start back to start in the
// graph next, as the rules on it with start at both ends, or nil when there
// is none. It searches breadth first, so the cycle it finds is the one
// people read most easily.
func shortestCycle(next [][]int, start int) []int {
	prev := make([]int, len(next))
	for i := range prev {
		prev[i] = -1
	}
	queue := []int{start}
	for len(queue) > 0 {
		at := queue[0]
		queue = queue[1:]
		for _, to := range next[at] {
			if to == start {
				path := []int{start}
				for n := at; n != start; n = prev[n] {
					path = append(path, n)
				}
				path = append(path, start)
				slices.Reverse(path)
				return path
			}
			if prev[to] < 0 {
				prev[to] = at
				queue = append(queue, to)
			}
		}
	}
	return nil
}
