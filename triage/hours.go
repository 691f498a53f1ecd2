package triage

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/config"
)

// minutesPerDay is the length of a day on the wall clock.
const minutesPerDay = 24 * 60

// period is a time of day from one minute after midnight to another, on the
// wall clock: from <= m < to.
type period struct {
	from, to int
}

// week holds the periods of each day of the week, indexed by
// [time.Weekday], sorted and without overlaps.
type week [7][]period

// add adds a period to the given days and merges it with the periods it
// overlaps or touches.
func (w *week) add(days []time.Weekday, p period) {
	for _, d := range days {
		list := append(w[d], p)
		slices.SortFunc(list, func(a, b period) int { return a.from - b.from })
		merged := list[:1]
		for _, q := range list[1:] {
			last := &merged[len(merged)-1]
			if q.from <= last.to {
				last.to = max(last.to, q.to)
				continue
			}
			merged = append(merged, q)
		}
		w[d] = merged
	}
}

// at returns the period of day d that holds minute m.
func (w *week) at(d time.Weekday, m int) (period, bool) {
	for _, p := range w[d] {
		if p.from <= m && m < p.to {
			return p, true
		}
	}
	return period{}, false
}

// empty reports whether the week has no period at all.
func (w *week) empty() bool {
	for _, ps := range w {
		if len(ps) > 0 {
			return false
		}
	}
	return true
}

// schedule is the shop's opening hours in its time zone.
type schedule struct {
	loc      *time.Location
	open     week
	holidays map[string]bool // dates as YYYY-MM-DD
}

// newSchedule compiles the [hours] table.
func newSchedule(h config.Hours, loc *time.Location) (schedule, error) {
	s := schedule{loc: loc, holidays: make(map[string]bool)}
	for i, d := range h.Holidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return s, fmt.Errorf("hours: holiday %d: %q is not a date (YYYY-MM-DD)", i+1, d)
		}
		s.holidays[d] = true
	}
	for i, o := range h.Open {
		days, p, err := weekly(o.Days, o.From, o.To)
		if err != nil {
			return s, fmt.Errorf("hours: open %d: %w", i+1, err)
		}
		s.open.add(days, p)
	}
	return s, nil
}

// weekly reads the days and times of an opening period or a shift.
func weekly(names []string, from, to string) ([]time.Weekday, period, error) {
	days := make([]time.Weekday, 0, len(names))
	for _, n := range names {
		d, ok := parseDay(n)
		if !ok {
			return nil, period{}, fmt.Errorf("unknown day %q", n)
		}
		days = append(days, d)
	}
	f, ok := parseClock(from)
	if !ok || f >= minutesPerDay {
		return nil, period{}, fmt.Errorf("from %q is not a time (HH:MM)", from)
	}
	t, ok := parseClock(to)
	if !ok {
		return nil, period{}, fmt.Errorf("to %q is not a time (HH:MM)", to)
	}
	if f >= t {
		return nil, period{}, fmt.Errorf("to %s is not after from %s", to, from)
	}
	return days, period{f, t}, nil
}

// parseDay reads a day of the week written as its first three letters.
func parseDay(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(s, d.String()[:3]) {
			return d, true
		}
	}
	return 0, false
}

// parseClock reads a time of day written HH:MM, from "00:00" to "24:00", as
// minutes after midnight.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h, _ := strconv.Atoi(s[:2])
	m, _ := strconv.Atoi(s[3:])
	if m > 59 || h > 24 || h == 24 && m != 0 {
		return 0, false
	}
	return h*60 + m, true
}

// holiday reports whether the shop is closed all day on the day of t, which
// is in the shop's zone.
func (s *schedule) holiday(t time.Time) bool {
	return len(s.holidays) > 0 && s.holidays[t.Format(time.DateOnly)]
}

// minute returns the minute of the day of t on the wall clock.
func minute(t time.Time) int {
	return t.Hour()*60 + t.Minute()
}

// clock returns the instant of minute m of the day of t, in t's zone.
// Minute 1440 is midnight at the end of the day.
func clock(t time.Time, m int) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, m/60, m%60, 0, 0, t.Location())
}

// isOpen reports whether the shop is open at t.
func (s *schedule) isOpen(t time.Time) bool {
	t = t.In(s.loc)
	if s.holiday(t) {
		return false
	}
	_, ok := s.open.at(t.Weekday(), minute(t))
	return ok
}

// next returns the first instant at or after t when the shop is open, and
// the instant it closes again. Both are zero when the shop never opens.
func (s *schedule) next(t time.Time) (opens, closes time.Time) {
	t = t.In(s.loc)
	if !s.holiday(t) {
		if p, ok := s.open.at(t.Weekday(), minute(t)); ok {
			return t, clock(t, p.to)
		}
	}
	if s.open.empty() {
		return time.Time{}, time.Time{}
	}
	// A week without holidays has an opening; look as far as the holidays
	// could push it.
	for day := range 8 + len(s.holidays) {
		d := t.AddDate(0, 0, day)
		if s.holiday(d) {
			continue
		}
		for _, p := range s.open[d.Weekday()] {
			if start := clock(d, p.from); start.After(t) {
				return start, clock(d, p.to)
			}
		}
	}
	return time.Time{}, time.Time{}
}

// add returns the instant d of opening hours after t: the clock runs only
// while the shop is open. If the shop never opens, the clock runs all the
// time.
func (s *schedule) add(t time.Time, d time.Duration) time.Time {
	for range maxPeriods {
		if d <= 0 {
			return t
		}
		opens, closes := s.next(t)
		if opens.IsZero() {
			return t.Add(d)
		}
		if end := opens.Add(d); !end.After(closes) {
			return end
		}
		d -= closes.Sub(opens)
		t = closes
	}
	return t.Add(d)
}

// maxPeriods bounds the opening periods an SLA clock walks over: more than
// ten years of them.
const maxPeriods = 10 * 366 * 4

// text describes the opening hours, such as "Mon-Fri 09:00-18:00, Sat
// 10:00-16:00".
func (s *schedule) text() string {
	order := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	var parts []string
	for i := 0; i < len(order); {
		ps := s.open[order[i]]
		j := i + 1
		for j < len(order) && slices.Equal(s.open[order[j]], ps) {
			j++
		}
		if len(ps) > 0 {
			days := order[i].String()[:3]
			if j-i > 1 {
				days += "-" + order[j-1].String()[:3]
			}
			times := make([]string, len(ps))
			for k, p := range ps {
				times[k] = hhmm(p.from) + "-" + hhmm(p.to)
			}
			parts = append(parts, days+" "+strings.Join(times, " and "))
		}
		i = j
	}
	return strings.Join(parts, ", ")
}

// hhmm formats minutes after midnight as HH:MM.
func hhmm(m int) string {
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

// Open reports whether the shop is open at t: within the opening hours, on
// a day that is not a holiday, in the shop's time zone.
func (e *Engine) Open(t time.Time) bool {
	return e.hours.isOpen(t)
}

// NextOpen returns t if the shop is open at t, and otherwise the instant it
// next opens. It returns the zero time if the shop never opens, which a
// validated configuration rules out.
func (e *Engine) NextOpen(t time.Time) time.Time {
	opens, _ := e.hours.next(t)
	return opens
}

// HoursText describes the opening hours, such as "Mon-Fri 09:00-18:00, Sat
// 10:00-16:00". It is the text of {hours} in replies.
func (e *Engine) HoursText() string {
	return e.hours.text()
}

// AfterHoursReply returns the configured reply to a request that arrives
// while the shop is closed, with {shop} and {hours} filled in, or "" when no
// reply is configured.
func (e *Engine) AfterHoursReply() string {
	return e.expand(e.afterHoursReply, 0)
}
