package ui

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/gofiber/fiber/v2"
)

// The reports page and its CSV export count what the desk did over a
// period of whole days: tickets per channel per day, first-response and
// resolution times, the resolution rate, SLA breaches, the open backlog at
// the end of each day, and the same per agent and per category.
//
// The numbers come from the tickets' own fields (CreatedAt,
// FirstResponseAt, ResolvedAt, StatusSince and the SLA due times), read
// page by page with the list cursor; the audit trail is not read, so that
// a year of tickets costs one pass over them. Two consequences:
//   - a ticket counts under its current assignee and category;
//   - a ticket reopened and resolved again counts as open from its creation
//     to its last resolution.
//
// Spam and tickets merged into another are not counted; deleted tickets
// are not listed at all.

// Report limits and defaults.
const (
	// maxReportDays caps the period, so one request's work is bounded.
	maxReportDays     = 366
	defaultReportDays = 30
	reportDateLayout  = "2006-01-02"
)

// reportTables are the tables /reports.csv can export, by its table=
// parameter; the first is the default.
var reportTables = []string{"daily", "summary", "agents", "categories"}

// reportLocation is the time zone whose midnights divide the report's
// days: the shop's (Options.Location).
func (s *Server) reportLocation() *time.Location { return s.opts.Location }

// reportPeriod is a run of whole days in one time zone.
type reportPeriod struct {
	From, To    time.Time // midnight starting the first day; midnight ending the last
	Days        int
	First, Last string // the first and last day, as YYYY-MM-DD
	// Clamped is set when the period asked for ran past today and was cut
	// there.
	Clamped bool
}

// parsePeriod reads the from and to dates (YYYY-MM-DD, both days
// included) in loc. An empty to means today; an empty from means the
// defaultReportDays days that end on to. The answer is a *pageError for
// dates that are malformed, reversed, in the future or too far apart.
func parsePeriod(from, to string, now time.Time, loc *time.Location) (reportPeriod, error) {
	var p reportPeriod
	today := midnight(now.In(loc))
	last := today
	if to != "" {
		d, err := parseReportDate("to", to, loc)
		if err != nil {
			return p, err
		}
		last = d
	}
	if last.After(today) {
		last, p.Clamped = today, true
	}
	first := last.AddDate(0, 0, 1-defaultReportDays)
	if from != "" {
		d, err := parseReportDate("from", from, loc)
		if err != nil {
			return p, err
		}
		first = d
	}
	switch {
	case first.After(today):
		return p, httpError(fiber.StatusBadRequest, "The period cannot start in the future: from is %s, today is %s.", first.Format(reportDateLayout), today.Format(reportDateLayout))
	case first.After(last):
		return p, httpError(fiber.StatusBadRequest, "The period starts (%s) after it ends (%s).", first.Format(reportDateLayout), last.Format(reportDateLayout))
	}
	p.Days = civilDay(last) - civilDay(first) + 1
	if p.Days > maxReportDays {
		return p, httpError(fiber.StatusBadRequest, "The period from %s to %s is %d days long; a report covers at most %d days.",
			first.Format(reportDateLayout), last.Format(reportDateLayout), p.Days, maxReportDays)
	}
	p.From, p.To = first, last.AddDate(0, 0, 1)
	p.First, p.Last = first.Format(reportDateLayout), last.Format(reportDateLayout)
	return p, nil
}

func parseReportDate(field, s string, loc *time.Location) (time.Time, error) {
	d, err := time.Parse(reportDateLayout, s)
	if len(s) > len(reportDateLayout) || err != nil {
		return time.Time{}, httpError(fiber.StatusBadRequest, "%s: %q is not a date; write it as YYYY-MM-DD, such as 2025-03-31.", field, clipReportInput(s))
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc), nil
}

// midnight is the start of t's day in t's zone.
func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// civilDay numbers t's calendar day (in t's zone), so that the difference
// of two is the number of days between them whatever the daylight-saving
// changes in between.
func civilDay(t time.Time) int {
	return int(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// durStats are the median and 90th percentile of some durations.
type durStats struct {
	N           int
	Median, P90 time.Duration
}

// summarize returns the nearest-rank median and 90th percentile of ds,
// which it sorts.
func summarize(ds []time.Duration) durStats {
	if len(ds) == 0 {
		return durStats{}
	}
	slices.Sort(ds)
	return durStats{N: len(ds), Median: nearestRank(ds, 50), P90: nearestRank(ds, 90)}
}

// nearestRank is the p-th percentile of sorted by the nearest-rank
// method: the smallest value with at least p percent of the values at or
// below it.
func nearestRank(sorted []time.Duration, p int) time.Duration {
	i := (p*len(sorted) + 99) / 100
	return sorted[max(i, 1)-1]
}

// MedianText and P90Text show the statistics to people.
func (d durStats) MedianText() string { return d.text(d.Median) }
func (d durStats) P90Text() string    { return d.text(d.P90) }

func (d durStats) text(v time.Duration) string {
	if d.N == 0 {
		return "–"
	}
	return humanDuration(v)
}

// humanDuration shows a duration to the minute: "45s", "12m", "3h 05m",
// "2d 4h".
func humanDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d/time.Second))
	}
	d = d.Round(time.Minute)
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %02dm", h, m)
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %dh", days, h)
}

// minutes shows a duration in minutes with one decimal, for the CSV.
func minutes(d durStats, v time.Duration) string {
	if d.N == 0 {
		return ""
	}
	return strconv.FormatFloat(v.Minutes(), 'f', 1, 64)
}

// reportRow is one line of the summary, agent or category table.
type reportRow struct {
	Label string // the agent or category; "Unassigned" or "Uncategorised" for none
	None  bool   // the row of tickets with no agent or category
	// Created counts the tickets created in the period; the times, rates
	// and breaches are of those tickets.
	Created   int
	Responded int
	Resolved  int
	// FirstResponse runs from creation to the first staff reply;
	// Resolution from creation to the (last) resolution.
	FirstResponse, Resolution durStats
	// FirstResponseBreaches and ResolutionBreaches count the tickets
	// whose SLA target passed before the reply or resolution came (or
	// that are still waiting for it past the target).
	FirstResponseBreaches, ResolutionBreaches int
	// OpenAtEnd counts every ticket still open at the end of the period,
	// whenever it was created.
	OpenAtEnd int
}

// Rate is the share of the tickets created that are resolved, in percent,
// or -1 without tickets.
func (r reportRow) Rate() float64 {
	if r.Created == 0 {
		return -1
	}
	return 100 * float64(r.Resolved) / float64(r.Created)
}

// RateText shows Rate to one decimal: "66.7%".
func (r reportRow) RateText() string {
	v := r.Rate()
	if v < 0 {
		return "–"
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) + "%"
}

// Breaches is the number of SLA targets missed.
func (r reportRow) Breaches() int { return r.FirstResponseBreaches + r.ResolutionBreaches }

// reportChannel is a channel with tickets in the period.
type reportChannel struct {
	Channel ticket.Channel
	Label   string
	Total   int
}

// reportDay is one day of the period.
type reportDay struct {
	Date   time.Time
	Counts []int // new tickets by report.Channels
	Total  int
	// Open counts the tickets open at the end of the day (for today: now).
	Open int
}

// ISO is the day as YYYY-MM-DD.
func (d reportDay) ISO() string { return d.Date.Format(reportDateLayout) }

// report is what the reports page shows and the CSV exports.
type report struct {
	Period     reportPeriod
	Zone       string // the time zone's name and offset at the end of the period
	Channels   []reportChannel
	Days       []reportDay
	Total      reportRow
	Agents     []reportRow
	Categories []reportRow
	// Spam and Merged count the tickets created in the period that are
	// left out.
	Spam, Merged int
	// Read counts the tickets read to make the report; Took is how long
	// it took.
	Read int
	Took time.Duration

	Volume  barChart
	Backlog lineChart
}

// OpenAtEnd is the backlog at the end of the period.
func (r *report) OpenAtEnd() int { return r.Total.OpenAtEnd }

// TookText is the time the report took, for the page's footnote.
func (r *report) TookText() string {
	return r.Took.Round(time.Millisecond).String()
}

// group gathers one row's tickets.
type group struct {
	row                       reportRow
	firstResponse, resolution []time.Duration
}

func (g *group) finish() reportRow {
	g.row.FirstResponse = summarize(g.firstResponse)
	g.row.Resolution = summarize(g.resolution)
	return g.row
}

// reportBuilder counts tickets into a report, one ticket at a time.
type reportBuilder struct {
	p   reportPeriod
	loc *time.Location
	now time.Time
	// ends holds the moment each day's backlog is counted: the day's end,
	// or now for today. It never decreases.
	ends       []time.Time
	perChannel map[ticket.Channel][]int // new tickets per day
	openDelta  []int                    // backlog changes: open[i] = sum of openDelta[:i+1]
	total      group
	agents     map[string]*group
	categories map[string]*group
	spam       int
	merged     int
	read       int
}

func newReportBuilder(p reportPeriod, loc *time.Location, now time.Time) *reportBuilder {
	b := &reportBuilder{
		p: p, loc: loc, now: now,
		ends:       make([]time.Time, p.Days),
		perChannel: map[ticket.Channel][]int{},
		openDelta:  make([]int, p.Days+1),
		agents:     map[string]*group{},
		categories: map[string]*group{},
	}
	for i := range b.ends {
		end := p.From.AddDate(0, 0, i+1)
		if end.After(now) {
			end = now
		}
		b.ends[i] = end
	}
	return b
}

// endedAt is when tk stopped being worked: its resolution, or the last
// status change of a ticket closed, archived or marked spam without one.
// It is zero for a ticket still new, open or pending.
func endedAt(tk *ticket.Ticket) time.Time {
	switch {
	case tk.Status.Active():
		return time.Time{}
	case !tk.ResolvedAt.IsZero():
		return tk.ResolvedAt
	case !tk.StatusSince.IsZero():
		return tk.StatusSince
	}
	return tk.UpdatedAt
}

// breached reports whether an SLA target due at due was missed: the thing
// came after it (done), or never came and the ticket ended after it, or is
// still waiting at now.
func breached(due, done, ended, now time.Time) bool {
	if due.IsZero() {
		return false
	}
	at := done
	if at.IsZero() {
		at = ended
	}
	if at.IsZero() {
		at = now
	}
	return at.After(due)
}

func (b *reportBuilder) group(m map[string]*group, name, none string) *group {
	g, ok := m[name]
	if !ok {
		g = &group{row: reportRow{Label: name}}
		if name == "" {
			g.row.Label, g.row.None = none, true
		}
		m[name] = g
	}
	return g
}

// add counts tk. Each ticket must be added once.
func (b *reportBuilder) add(tk *ticket.Ticket) {
	b.read++
	created := !tk.CreatedAt.Before(b.p.From) && tk.CreatedAt.Before(b.p.To)
	switch {
	case tk.Deleted:
		return
	case tk.Status == ticket.StatusSpam:
		if created {
			b.spam++
		}
		return
	case tk.MergedInto != 0:
		if created {
			b.merged++
		}
		return
	}
	groups := [3]*group{&b.total, b.group(b.agents, tk.Assignee, "Unassigned"), b.group(b.categories, tk.Category, "Uncategorised")}
	ended := endedAt(tk)

	// The backlog: open at the end of day i when created before it and
	// not ended by then.
	n := len(b.ends)
	first := sort.Search(n, func(i int) bool { return b.ends[i].After(tk.CreatedAt) })
	stop := n
	if !ended.IsZero() {
		stop = sort.Search(n, func(i int) bool { return b.ends[i].After(ended) })
	}
	if first < stop {
		b.openDelta[first]++
		b.openDelta[stop]--
		if stop == n {
			for _, g := range groups {
				g.row.OpenAtEnd++
			}
		}
	}

	if !created {
		return
	}
	day := civilDay(tk.CreatedAt.In(b.loc)) - civilDay(b.p.From)
	counts := b.perChannel[tk.Channel]
	if counts == nil {
		counts = make([]int, n)
		b.perChannel[tk.Channel] = counts
	}
	counts[day]++
	frBreach := breached(tk.FirstResponseDue, tk.FirstResponseAt, ended, b.now)
	resBreach := breached(tk.ResolutionDue, tk.ResolvedAt, ended, b.now)
	for _, g := range groups {
		g.row.Created++
		if !tk.FirstResponseAt.IsZero() {
			g.row.Responded++
			g.firstResponse = append(g.firstResponse, max(0, tk.FirstResponseAt.Sub(tk.CreatedAt)))
		}
		if !tk.ResolvedAt.IsZero() {
			g.row.Resolved++
			g.resolution = append(g.resolution, max(0, tk.ResolvedAt.Sub(tk.CreatedAt)))
		}
		if frBreach {
			g.row.FirstResponseBreaches++
		}
		if resBreach {
			g.row.ResolutionBreaches++
		}
	}
}

// report finishes the counting.
func (b *reportBuilder) report() *report {
	r := &report{
		Period: b.p,
		Zone:   b.p.To.Add(-time.Second).Format("MST (UTC-07:00)"),
		Total:  b.total.finish(),
		Spam:   b.spam, Merged: b.merged, Read: b.read,
	}
	r.Total.Label = "All tickets"
	// Known channels in their display order, then any other.
	order := slices.Clone(ticket.Channels)
	for _, ch := range slices.Sorted(maps.Keys(b.perChannel)) {
		if !slices.Contains(order, ch) {
			order = append(order, ch)
		}
	}
	for _, ch := range order {
		counts := b.perChannel[ch]
		if counts == nil {
			continue
		}
		total := 0
		for _, v := range counts {
			total += v
		}
		r.Channels = append(r.Channels, reportChannel{Channel: ch, Label: channelLabel(ch), Total: total})
	}
	open := 0
	for i := range b.p.Days {
		open += b.openDelta[i]
		d := reportDay{Date: b.p.From.AddDate(0, 0, i), Open: open, Counts: make([]int, len(r.Channels))}
		for j, ch := range r.Channels {
			d.Counts[j] = b.perChannel[ch.Channel][i]
			d.Total += d.Counts[j]
		}
		r.Days = append(r.Days, d)
	}
	r.Agents = finishGroups(b.agents)
	r.Categories = finishGroups(b.categories)
	r.Volume = volumeChart(r)
	r.Backlog = backlogChart(r)
	return r
}

// finishGroups returns the rows busiest first: most tickets created, then
// most left open, then by name.
func finishGroups(m map[string]*group) []reportRow {
	rows := make([]reportRow, 0, len(m))
	for _, g := range m {
		rows = append(rows, g.finish())
	}
	slices.SortFunc(rows, func(a, b reportRow) int {
		return cmp.Or(cmp.Compare(b.Created, a.Created), cmp.Compare(b.OpenAtEnd, a.OpenAtEnd), cmp.Compare(a.Label, b.Label))
	})
	return rows
}

// buildReport counts the tickets for period p. It reads, with the list
// cursor, every ticket changed since the period began (the only ones that
// can have been created, answered or closed in it), then the tickets still
// new, open or pending that last changed before it (open on every day of
// it). Its work grows with the tickets changed since the start of the
// period, which maxReportDays bounds for any period ending today.
func (s *Server) buildReport(p reportPeriod, loc *time.Location, now time.Time) (*report, error) {
	start := time.Now()
	b := newReportBuilder(p, loc, now)
	err := eachTicket(s.desk, ticket.Filter{}, func(tk *ticket.Ticket) bool {
		if tk.UpdatedAt.Before(p.From) {
			return false // the listing is newest change first
		}
		b.add(tk)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("report: list tickets: %w", err)
	}
	for _, st := range []ticket.Status{ticket.StatusNew, ticket.StatusOpen, ticket.StatusPending} {
		err := eachTicket(s.desk, ticket.Filter{Status: st}, func(tk *ticket.Ticket) bool {
			if tk.UpdatedAt.Before(p.From) {
				b.add(tk)
			}
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("report: list %s tickets: %w", st, err)
		}
	}
	r := b.report()
	r.Took = time.Since(start)
	s.log.Debug("report: built", "from", p.First, "to", p.Last, "tickets", r.Read, "duration", r.Took)
	return r, nil
}

// eachTicket calls fn with every ticket f lists, page by page, until fn
// returns false.
func eachTicket(d *ticket.Desk, f ticket.Filter, fn func(*ticket.Ticket) bool) error {
	f.Limit = ticket.MaxPageSize
	for {
		page, err := d.List(f)
		if err != nil {
			return err
		}
		for i := range page.Tickets {
			if !fn(&page.Tickets[i]) {
				return nil
			}
		}
		if page.Next == "" {
			return nil
		}
		f.Cursor = page.Next
	}
}

// Charts. They are SVG drawn on the server into a fixed view box that the
// stylesheet scales; colours come from classes in app.css, since the
// pages' CSP forbids style attributes.

// Chart geometry, in view box units.
const (
	chartW      = 720
	chartH      = 240
	chartLeft   = 40 // room for the y labels
	chartRight  = 8
	chartTop    = 10
	chartBottom = 26 // room for the x labels
)

type chartTick struct {
	X, Y  float64
	Label string
}

type chartSeg struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type chartPoint struct {
	X, Y  float64
	Title string
}

// chartFrame is what both charts share: the view box, the grid and the
// labels.
type chartFrame struct {
	W, H   int
	Left   float64 // x of the y axis
	Right  float64 // x of the plot's right edge
	Bottom float64 // y of the x axis
	YTicks []chartTick
	XTicks []chartTick
}

type barChart struct {
	chartFrame
	Segs []chartSeg
}

type lineChart struct {
	chartFrame
	Points string // the polyline, "x,y x,y ..."
	Dots   []chartPoint
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// niceTop returns a round top for a y axis that must reach v, and the
// step between its ticks: 1, 2 or 5 times a power of ten, at most five
// steps.
func niceTop(v int) (top, step int) {
	step = 1
	for _, m := range []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000} {
		step = m
		if v <= 5*m {
			break
		}
	}
	top = max(step, (v+step-1)/step*step)
	return top, step
}

// newFrame lays out a chart of days columns whose y axis reaches maxY.
func newFrame(days []reportDay, maxY int) (chartFrame, func(i int) float64, func(v int) float64, float64) {
	f := chartFrame{W: chartW, H: chartH, Left: chartLeft, Right: chartW - chartRight, Bottom: chartH - chartBottom}
	top, step := niceTop(maxY)
	plotH := f.Bottom - chartTop
	y := func(v int) float64 { return round1(f.Bottom - plotH*float64(v)/float64(top)) }
	for v := 0; v <= top; v += step {
		f.YTicks = append(f.YTicks, chartTick{X: f.Left - 6, Y: y(v), Label: strconv.Itoa(v)})
	}
	slot := (f.Right - f.Left) / float64(max(len(days), 1))
	x := func(i int) float64 { return round1(f.Left + slot*(float64(i)+0.5)) }
	every := (len(days) + 7) / 8 // at most eight date labels
	for i := 0; i < len(days); i += max(every, 1) {
		f.XTicks = append(f.XTicks, chartTick{X: x(i), Y: f.Bottom + 17, Label: days[i].Date.Format("2 Jan")})
	}
	return f, x, y, slot
}

// volumeChart stacks each day's new tickets by channel.
func volumeChart(r *report) barChart {
	most := 0
	for _, d := range r.Days {
		most = max(most, d.Total)
	}
	f, x, y, slot := newFrame(r.Days, most)
	c := barChart{chartFrame: f}
	w := round1(max(slot*0.8, 0.5))
	for i, d := range r.Days {
		base := 0
		for j, n := range d.Counts {
			if n == 0 {
				continue
			}
			top := y(base + n)
			c.Segs = append(c.Segs, chartSeg{
				X: round1(x(i) - w/2), Y: top, W: w, H: round1(y(base) - top),
				Class: "ch-" + string(r.Channels[j].Channel),
				Title: fmt.Sprintf("%s: %d %s", d.Date.Format("Mon 2 Jan 2006"), n, r.Channels[j].Label),
			})
			base += n
		}
	}
	return c
}

// backlogChart draws the tickets open at the end of each day.
func backlogChart(r *report) lineChart {
	most := 0
	for _, d := range r.Days {
		most = max(most, d.Open)
	}
	f, x, y, _ := newFrame(r.Days, most)
	c := lineChart{chartFrame: f}
	var pts strings.Builder
	for i, d := range r.Days {
		if i > 0 {
			pts.WriteByte(' ')
		}
		px, py := x(i), y(d.Open)
		fmt.Fprintf(&pts, "%g,%g", px, py)
		if len(r.Days) <= 62 {
			c.Dots = append(c.Dots, chartPoint{X: px, Y: py, Title: fmt.Sprintf("%s: %d open", d.Date.Format("Mon 2 Jan 2006"), d.Open)})
		}
	}
	c.Points = pts.String()
	return c
}

// The pages.

// reportLink is a link to another period or to a CSV table.
type reportLink struct {
	Label string
	URL   string
}

// reportsView is the reports page's data.
type reportsView struct {
	From, To string // as asked, for the form
	Quick    []reportLink
	CSV      []reportLink
	Report   *report // nil when the period was refused
	MaxDays  int
}

func reportURL(path string, first, last time.Time, extra ...string) string {
	q := url.Values{"from": {first.Format(reportDateLayout)}, "to": {last.Format(reportDateLayout)}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return path + "?" + q.Encode()
}

// quickPeriods are the usual periods, ending today.
func quickPeriods(now time.Time, loc *time.Location) []reportLink {
	today := midnight(now.In(loc))
	month := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, loc)
	return []reportLink{
		{"Last 7 days", reportURL("/reports", today.AddDate(0, 0, -6), today)},
		{"Last 30 days", reportURL("/reports", today.AddDate(0, 0, -29), today)},
		{"This month", reportURL("/reports", month, today)},
		{"Last month", reportURL("/reports", month.AddDate(0, -1, 0), month.AddDate(0, 0, -1))},
		{"Last 12 months", reportURL("/reports", today.AddDate(-1, 0, 1), today)},
	}
}

// reportsPage shows the report for the period of the from and to
// parameters. A period it cannot show is answered 400 with the form, so
// the dates can be put right.
func (s *Server) reportsPage(c *fiber.Ctx) error {
	loc, now := s.reportLocation(), s.now()
	v := reportsView{From: c.Query("from"), To: c.Query("to"), Quick: quickPeriods(now, loc), MaxDays: maxReportDays}
	p, err := parsePeriod(v.From, v.To, now, loc)
	if pe, ok := err.(*pageError); ok {
		return s.render(c, pe.Status, "reports", view{Title: "Reports", Nav: "reports", Error: pe.Message, Data: v})
	}
	if err != nil {
		return err
	}
	v.From, v.To = p.First, p.Last
	if v.Report, err = s.buildReport(p, loc, now); err != nil {
		return err
	}
	last := p.To.AddDate(0, 0, -1)
	for _, t := range reportTables {
		v.CSV = append(v.CSV, reportLink{t, reportURL("/reports.csv", p.From, last, "table", t)})
	}
	return s.render(c, fiber.StatusOK, "reports", view{Title: "Reports", Nav: "reports", Data: v})
}

// reportsCSV exports one table of the report as CSV (RFC 4180), chosen by
// table= (daily, summary, agents or categories; daily by default), for
// the same from and to as the page.
func (s *Server) reportsCSV(c *fiber.Ctx) error {
	loc, now := s.reportLocation(), s.now()
	p, err := parsePeriod(c.Query("from"), c.Query("to"), now, loc)
	if err != nil {
		return err
	}
	table := c.Query("table", reportTables[0])
	if !slices.Contains(reportTables, table) {
		return httpError(fiber.StatusBadRequest, "table: %q is not a report table; choose one of %s.", clipReportInput(table), strings.Join(reportTables, ", "))
	}
	r, err := s.buildReport(p, loc, now)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := writeReportCSV(&buf, r, table); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="counterdesk-%s-%s-to-%s.csv"`, table, p.First, p.Last))
	return c.Send(buf.Bytes())
}

// clipReportInput shortens what a person typed for an error message.
func clipReportInput(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:40] + "…"
}

// csvCell defuses a cell a spreadsheet would take for a formula: one
// that starts with =, +, -, @, a tab or a carriage return gets a leading
// single quote (the OWASP advice on CSV injection).
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// writeReportCSV writes one table of r. Durations are in minutes with one
// decimal, rates in percent; a cell is empty where there is nothing to
// measure.
func writeReportCSV(buf *bytes.Buffer, r *report, table string) error {
	w := csv.NewWriter(buf)
	put := func(cells ...string) {
		for i, c := range cells {
			cells[i] = csvCell(c)
		}
		w.Write(cells) // errors stick in w; w.Error reports them
	}
	itoa := strconv.Itoa
	switch table {
	case "daily":
		head := []string{"date"}
		for _, ch := range ticket.Channels {
			head = append(head, string(ch))
		}
		put(append(head, "total", "open_at_end_of_day")...)
		for _, d := range r.Days {
			row := []string{d.ISO()}
			for _, ch := range ticket.Channels {
				n := 0
				for j, rc := range r.Channels {
					if rc.Channel == ch {
						n = d.Counts[j]
					}
				}
				row = append(row, itoa(n))
			}
			put(append(row, itoa(d.Total), itoa(d.Open))...)
		}
	case "summary":
		t := r.Total
		rate := ""
		if v := t.Rate(); v >= 0 {
			rate = strconv.FormatFloat(v, 'f', 1, 64)
		}
		put("metric", "value")
		for _, kv := range [][2]string{
			{"from", r.Period.First}, {"to", r.Period.Last}, {"days", itoa(r.Period.Days)},
			{"tickets_created", itoa(t.Created)}, {"tickets_responded", itoa(t.Responded)},
			{"first_response_median_minutes", minutes(t.FirstResponse, t.FirstResponse.Median)},
			{"first_response_p90_minutes", minutes(t.FirstResponse, t.FirstResponse.P90)},
			{"tickets_resolved", itoa(t.Resolved)}, {"resolution_rate_percent", rate},
			{"resolution_median_minutes", minutes(t.Resolution, t.Resolution.Median)},
			{"resolution_p90_minutes", minutes(t.Resolution, t.Resolution.P90)},
			{"first_response_sla_breaches", itoa(t.FirstResponseBreaches)},
			{"resolution_sla_breaches", itoa(t.ResolutionBreaches)},
			{"open_at_end", itoa(t.OpenAtEnd)},
			{"spam_not_counted", itoa(r.Spam)}, {"merged_not_counted", itoa(r.Merged)},
		} {
			put(kv[0], kv[1])
		}
	case "agents", "categories":
		rows, first := r.Agents, "agent"
		if table == "categories" {
			rows, first = r.Categories, "category"
		}
		put(first, "tickets_created", "tickets_responded", "first_response_median_minutes", "first_response_p90_minutes",
			"tickets_resolved", "resolution_rate_percent", "resolution_median_minutes", "resolution_p90_minutes",
			"first_response_sla_breaches", "resolution_sla_breaches", "open_at_end")
		for _, row := range rows {
			rate := ""
			if v := row.Rate(); v >= 0 {
				rate = strconv.FormatFloat(v, 'f', 1, 64)
			}
			label := row.Label
			if row.None {
				label = "(" + strings.ToLower(label) + ")"
			}
			put(label, itoa(row.Created), itoa(row.Responded),
				minutes(row.FirstResponse, row.FirstResponse.Median), minutes(row.FirstResponse, row.FirstResponse.P90),
				itoa(row.Resolved), rate,
				minutes(row.Resolution, row.Resolution.Median), minutes(row.Resolution, row.Resolution.P90),
				itoa(row.FirstResponseBreaches), itoa(row.ResolutionBreaches), itoa(row.OpenAtEnd))
		}
	}
	w.Flush()
	return w.Error()
}

// reportTable is the agent or category table, for the page.
type reportTable struct {
	ID, Name, Head string
	Rows           []reportRow
}

// AgentTable and CategoryTable are the page's per-agent and per-category
// tables.
func (r *report) AgentTable() reportTable {
	return reportTable{ID: "agents", Name: "agent", Head: "Agent", Rows: r.Agents}
}

func (r *report) CategoryTable() reportTable {
	return reportTable{ID: "categories", Name: "category", Head: "Category", Rows: r.Categories}
}
