package triage

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/config"
)

// Engine holds the compiled rules of a configuration: classification,
// priority, routing, opening hours, SLA and automations. It is not changed
// after [New], so it is safe for concurrent use.
type Engine struct {
	timersVersion   string
	shop            string
	hours           schedule
	afterHoursReply string

	match      *matcher
	categories []category
	fallback   int // index of the fallback category, or -1
	tags       []tagRule
	flags      []flag
	extract    []extractor

	channelPriority map[string]int // channel to rank
	repeatWindow    time.Duration
	repeatCount     int
	contactOwner    bool
	teams           map[string]team
	members         map[string]bool // members of any team
	shifts          map[string]*week

	sla            [4]config.SLATarget // by rank
	escalateBefore time.Duration
	businessHours  bool

	automations []automation
}

type category struct {
	name     string
	team     string
	tags     []string
	minScore int
	rule     int32 // in match
}

type tagRule struct {
	name string
	rule int32
}

type flag struct {
	name   string
	rank   int
	notify bool
	rule   int32
}

type extractor struct {
	field string
	re    prefilter
}

type team struct {
	name     string
	members  []string
	strategy string
	assignee string
}

// New compiles the triage, hours, SLA and automation rules of c. It expects
// a configuration that passed [config.Config.Validate]; what it cannot
// compile, such as a regular expression, it reports in an error that names
// the rule.
func New(c config.Config) (*Engine, error) {
	loc := c.Location()
	hours, err := newSchedule(c.Hours, loc)
	if err != nil {
		return nil, fmt.Errorf("triage: %w", err)
	}
	t := c.Triage
	e := &Engine{
		timersVersion:   timersVersion(c),
		shop:            c.Shop.Name,
		hours:           hours,
		afterHoursReply: c.Hours.AfterHoursReply,
		match:           newMatcher(),
		fallback:        -1,
		channelPriority: make(map[string]int),
		repeatWindow:    t.RepeatWindow.Duration,
		repeatCount:     t.RepeatCount,
		contactOwner:    t.ContactOwner,
		teams:           make(map[string]team),
		members:         make(map[string]bool),
		shifts:          make(map[string]*week),
		escalateBefore:  c.SLA.EscalateBefore.Duration,
		businessHours:   c.SLA.BusinessHours,
	}
	for _, ch := range []string{"voicemail", "missed_call", "sms", "web_form", "email", "staff", "api", "cloud"} {
		p, _ := t.ChannelPriority.Of(ch)
		r := rank(p)
		if r < 0 {
			return nil, fmt.Errorf("triage: channel_priority: %s: unknown priority %q", ch, p)
		}
		e.channelPriority[ch] = r
	}
	for _, cat := range t.Categories {
		rule, err := e.match.add(cat.Keywords, cat.Phrases, cat.Patterns)
		if err != nil {
			return nil, fmt.Errorf("triage: rule categories/%s: %w", cat.Name, err)
		}
		if len(cat.Keywords)+len(cat.Phrases)+len(cat.Patterns) == 0 && e.fallback < 0 {
			e.fallback = len(e.categories)
		}
		e.categories = append(e.categories, category{
			name: cat.Name, team: cat.Team, tags: slices.Clone(cat.Tags), minScore: max(cat.MinScore, 1), rule: rule,
		})
	}
	for _, tg := range t.Tags {
		rule, err := e.match.add(tg.Keywords, tg.Phrases, tg.Patterns)
		if err != nil {
			return nil, fmt.Errorf("triage: rule tags/%s: %w", tg.Name, err)
		}
		e.tags = append(e.tags, tagRule{name: tg.Name, rule: rule})
	}
	for _, f := range t.Flags {
		r := rank(f.Priority)
		if r < 0 {
			return nil, fmt.Errorf("triage: rule flags/%s: unknown priority %q", f.Name, f.Priority)
		}
		rule, err := e.match.add(f.Keywords, f.Phrases, f.Patterns)
		if err != nil {
			return nil, fmt.Errorf("triage: rule flags/%s: %w", f.Name, err)
		}
		e.flags = append(e.flags, flag{name: f.Name, rank: r, notify: f.Notify, rule: rule})
	}
	for _, x := range t.Extract {
		re, err := config.CompilePattern(x.Pattern)
		if err != nil {
			return nil, fmt.Errorf("triage: rule extract/%s: pattern: %w", x.Field, err)
		}
		if re.NumSubexp() == 0 {
			return nil, fmt.Errorf("triage: rule extract/%s: pattern has no group for the value", x.Field)
		}
		e.extract = append(e.extract, extractor{field: x.Field, re: newPrefilter(re)})
	}
	for _, tm := range t.Teams {
		e.teams[tm.Name] = team{name: tm.Name, members: slices.Clone(tm.Members), strategy: tm.Strategy, assignee: tm.Assignee}
		for _, m := range tm.Members {
			e.members[m] = true
		}
	}
	for i, s := range t.Shifts {
		days, p, err := weekly(s.Days, s.From, s.To)
		if err != nil {
			return nil, fmt.Errorf("triage: shift %d (%s): %w", i+1, s.Who, err)
		}
		w := e.shifts[s.Who]
		if w == nil {
			w = new(week)
			e.shifts[s.Who] = w
		}
		w.add(days, p)
	}
	for r, p := range priorities() {
		target, _ := c.SLA.For(p)
		e.sla[r] = target
	}
	for _, a := range c.Automations {
		au, err := newAutomation(a)
		if err != nil {
			return nil, fmt.Errorf("triage: automation %q: %w", a.Name, err)
		}
		e.automations = append(e.automations, au)
	}
	return e, nil
}

// Triage classifies a request, gives it a priority and, for a new ticket,
// routes it and sets its SLA due times. It implements the ticket package's
// Triager.
//
// The category, the team and the assignee are decided for new tickets only;
// a request that joins a ticket can add tags and fields and raise the
// ticket's priority, never lower it.
func (e *Engine) Triage(in Input) Decision {
	var d Decision
	open := e.Open(in.ReceivedAt)
	m := in.Matches
	if m == nil {
		m = e.Match(in)
	}
	rules := m.rules

	if !open {
		d.AfterHours = true
		d.step("after_hours", "true", "hours", e.closedWhy(in.ReceivedAt))
		if in.NewTicket {
			d.addTag(TagAfterHours, "hours", "arrived while the shop was closed")
		}
	}

	cat := -1
	if in.NewTicket {
		cat = e.classify(rules, &d)
	}
	for _, tg := range e.tags {
		if r := rules[tg.rule]; len(r.hits) > 0 {
			d.addTag(tg.name, "tags/"+tg.name, e.match.why(r.hits))
		}
	}
	d.Steps = append(d.Steps, m.fields.Steps...)
	for k, v := range m.fields.Fields {
		if d.Fields == nil {
			d.Fields = map[string]string{}
		}
		d.Fields[k] = v
	}
	final := e.prioritise(in, open, rules, &d)

	if in.NewTicket {
		e.route(in, open, cat, &d)
		e.setSLA(in.ReceivedAt, final, &d)
	}
	return d
}

// Matches is the part of a triage that reads only the request's text:
// which rules' terms it holds and which fields it carries. It is the
// costly part, so a caller that decides inside a write transaction
// computes it before, with Match, and hands it over in Input.Matches.
type Matches struct {
	rules  []ruleHits
	fields Decision // the steps and values of the extracted fields
}

// Match reads the text of in (subject, body, transcript) against every
// rule.
func (e *Engine) Match(in Input) *Matches {
	parts := [numParts]string{Fold(in.Subject), Fold(in.Body), Fold(in.Transcript)}
	m := &Matches{rules: e.match.byRule(e.match.match(&parts))}
	e.fields(in, &m.fields)
	return m
}

// step records a step of the decision.
func (d *Decision) step(what, value, rule, why string) {
	d.Steps = append(d.Steps, Step{What: what, Value: value, Rule: rule, Why: why})
}

// addTag adds a tag to the decision once.
func (d *Decision) addTag(tag, rule, why string) {
	if slices.Contains(d.Tags, tag) {
		return
	}
	d.Tags = append(d.Tags, tag)
	d.step("tag", tag, rule, why)
}

// closedWhy says why the shop was closed at t.
func (e *Engine) closedWhy(t time.Time) string {
	local := t.In(e.hours.loc)
	when := local.Format("Mon 2 Jan 15:04")
	next := e.NextOpen(t)
	var why string
	if e.hours.holiday(local) {
		why = "arrived on " + when + ", a holiday"
	} else {
		why = "arrived on " + when + ", outside opening hours"
	}
	if !next.IsZero() {
		why += "; the shop opens " + next.In(e.hours.loc).Format("Mon 2 Jan 15:04")
	}
	return why
}

// classify picks the category with the highest score that reaches its
// minimum; a tie goes to the category listed first. A request no category
// matches gets the fallback category. It returns the category's index, or
// -1.
func (e *Engine) classify(rules []ruleHits, d *Decision) int {
	best, score := -1, 0
	for i, c := range e.categories {
		r := rules[c.rule]
		if r.score >= c.minScore && r.score > score {
			best, score = i, r.score
		}
	}
	why := ""
	switch {
	case best >= 0:
		why = e.match.why(rules[e.categories[best].rule].hits) + "; score " + strconv.Itoa(score)
	case e.fallback >= 0:
		best = e.fallback
		why = "no other category matched"
	default:
		return -1
	}
	c := e.categories[best]
	d.Category = c.name
	d.step("category", c.name, "categories/"+c.name, why)
	for _, tag := range c.tags {
		d.addTag(tag, "categories/"+c.name, "category "+c.name+" adds it")
	}
	return best
}

// fields pulls the fields out of the request as written. Each field takes
// the first part (subject, body, transcript) its pattern matches, and the
// first group of the pattern that matched.
func (e *Engine) fields(in Input, d *Decision) {
	if len(e.extract) == 0 {
		return
	}
	parts := [numParts]string{in.Subject, in.Body, in.Transcript}
	canonical := [numParts]string{canon(in.Subject), canon(in.Body), canon(in.Transcript)}
	for _, x := range e.extract {
		for p, text := range parts {
			if !x.re.mayMatch(canonical[p]) {
				continue
			}
			m := x.re.re.FindStringSubmatch(text)
			if m == nil {
				continue
			}
			value := ""
			for _, g := range m[1:] {
				if g != "" {
					value = g
					break
				}
			}
			if value == "" {
				continue
			}
			if d.Fields == nil {
				d.Fields = make(map[string]string)
			}
			d.Fields[x.field] = value
			d.step("field:"+x.field, value, "extract/"+x.field, "found "+strconv.Quote(cut(m[0], maxWhyText))+" in "+partName(uint8(p)))
			break
		}
	}
}

// prioritise decides the priority and whether to page staff. A new ticket
// starts from the priority of its channel while the shop is open, and from
// normal after hours; a request joining a ticket starts from the ticket's
// priority. Flags then raise it, never lower it, and a repeat contact
// raises it one step: a new ticket when the request is at least the
// repeat_count-th of the contact within the window, a joining request only
// when it is exactly that one, so that a burst of messages raises a ticket
// once. It returns the rank of the final priority.
func (e *Engine) prioritise(in Input, open bool, rules []ruleHits, d *Decision) int {
	var p int
	var rule, why string
	set := func(r int, byRule, because string) {
		p, rule, why = r, byRule, because
		d.step("priority", priorityOf(r), byRule, because)
	}
	start := 1
	switch {
	case !in.NewTicket:
		if r := rank(in.Priority); r >= 0 {
			start = r
		}
		p = start
	case open:
		r, ok := e.channelPriority[in.Channel]
		if !ok {
			r = 1
		}
		set(r, "channel_priority", fmt.Sprintf("a new %s request during opening hours starts at %s", channelName(in.Channel), priorityOf(r)))
	default:
		set(1, "hours", "a new request after hours starts at normal")
	}

	for _, f := range e.flags {
		r := rules[f.rule]
		if len(r.hits) == 0 {
			continue
		}
		if f.rank > p {
			set(f.rank, "flags/"+f.name, e.match.why(r.hits))
		}
		if f.notify && open && !d.Notify {
			d.Notify = true
			d.step("notify", "true", "flags/"+f.name, e.match.why(r.hits))
		}
	}

	if n := e.repeats(in); p < 3 && (n >= e.repeatCount && in.NewTicket || n == e.repeatCount && !in.NewTicket) {
		set(p+1, "repeat_contact", fmt.Sprintf("request %d from this contact within %s", n, formatDuration(e.repeatWindow)))
	}

	if in.NewTicket || p > start {
		d.Priority, d.Rule, d.Why = priorityOf(p), rule, why
	}
	return p
}

// repeats counts the contact's requests within the repeat window before
// this one, counting this one.
func (e *Engine) repeats(in Input) int {
	if e.repeatCount <= 0 {
		return 0
	}
	n := 1
	since := in.ReceivedAt.Add(-e.repeatWindow)
	for _, t := range in.Recent {
		if t.After(since) && !t.After(in.ReceivedAt) {
			n++
		}
	}
	return n
}

// channelName names a channel for a sentence.
func channelName(ch string) string {
	if ch == "" {
		return "unknown channel"
	}
	return strings.ReplaceAll(ch, "_", " ")
}

// formatDuration writes a duration as the configuration file does: "24h"
// rather than "24h0m0s".
func formatDuration(d time.Duration) string {
	return config.Duration{Duration: d}.String()
}

// setSLA sets the due times of a new ticket from the SLA of its priority.
func (e *Engine) setSLA(received time.Time, r int, d *Decision) {
	target := e.sla[r]
	if target.FirstResponse.Duration <= 0 {
		return
	}
	d.FirstResponseDue = e.due(received, target.FirstResponse.Duration)
	d.ResolutionDue = e.due(received, target.Resolution.Duration)
	clock := "around the clock"
	if e.businessHours {
		clock = "in opening hours"
	}
	loc := e.hours.loc
	d.step("sla", "first response by "+d.FirstResponseDue.In(loc).Format(time.RFC3339)+", resolution by "+d.ResolutionDue.In(loc).Format(time.RFC3339),
		"sla/"+priorityOf(r),
		fmt.Sprintf("%s priority: first response within %s and resolution within %s, counted %s",
			priorityOf(r), formatDuration(target.FirstResponse.Duration), formatDuration(target.Resolution.Duration), clock))
}

// due returns the instant d after t, counting only opening hours when the
// SLA says so.
func (e *Engine) due(t time.Time, d time.Duration) time.Time {
	if e.businessHours {
		return e.hours.add(t, d)
	}
	return t.Add(d)
}

// TimersVersion names the settings the due times of time rules depend on
// (time zone, opening hours, SLA targets, automations). When it changes
// between two starts, schedules made under the old settings are wrong and
// the ticket package makes them again.
func (e *Engine) TimersVersion() string { return e.timersVersion }

func timersVersion(c config.Config) string {
	data, err := json.Marshal(struct {
		Zone        string
		Hours       config.Hours
		SLA         config.SLA
		Automations []config.Automation
	}{c.Shop.TimeZone, c.Hours, c.SLA, c.Automations})
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}
