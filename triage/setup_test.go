package triage

import (
	"testing"
	"time"
	_ "time/tzdata" // Europe/London, wherever the tests run

	"github.com/counterdesk/counterdesk/config"
)

// london is the shop's zone in these tests.
func london(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at returns an instant written "2006-01-02 15:04" in London.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, london(t))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The week of these tests: Monday 4 May 2026 to Sunday 10 May 2026,
// British Summer Time.
const (
	monday   = "2026-05-04"
	thursday = "2026-05-07"
	friday   = "2026-05-08"
	saturday = "2026-05-09"
	sunday   = "2026-05-10"
)

// shopConfig returns the default configuration of a shop in London, changed
// by change. It fails the test if the result does not validate.
func shopConfig(t testing.TB, change func(*config.Config)) config.Config {
	t.Helper()
	c := config.Default()
	c.Shop.Name = "Wings & Things"
	c.Shop.TimeZone = "Europe/London"
	if change != nil {
		change(&c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("test configuration: %v", err)
	}
	return c
}

// newEngine compiles shopConfig(change).
func newEngine(t testing.TB, change func(*config.Config)) *Engine {
	t.Helper()
	e, err := New(shopConfig(t, change))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// stepOf returns the first step of d that decided what, if any.
func stepOf(d Decision, what string) (Step, bool) {
	for _, s := range d.Steps {
		if s.What == what {
			return s, true
		}
	}
	return Step{}, false
}
