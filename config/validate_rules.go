package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// This file validates the rules: opening hours, triage, SLA and
// automations. A problem of one element of an array of tables is named by
// the element, as in `triage.categories "warranty"`, and found on the line of
// the key it is about.

// The words the rules use, separated by spaces. The ticket and triage
// packages use the same.
const (
	priorityList      = "low normal high urgent"
	channelList       = "voicemail missed_call sms web_form email staff api cloud"
	statusList        = "new open pending resolved closed spam archived"
	dayList           = "mon tue wed thu fri sat sun"
	strategyList      = "round_robin least_open fixed"
	eventList         = "created message status_changed assigned"
	timerList         = "no_staff_reply pending_for"
	actionList        = "set_priority tag assign set_status note reply notify"
	businessHoursList = "any open closed"
)

// words returns the words of one of the lists above.
func words(list string) []string {
	return strings.Fields(list)
}

// checkAt adds a problem for key, found on the line of the dotted key at,
// unless ok.
func (v *validator) checkAt(key, at string, ok bool, format string, args ...any) {
	if !ok {
		v.list = append(v.list, Problem{Key: key, Message: fmt.Sprintf(format, args...), at: at})
	}
}

// element describes the i-th (from 0) element of the array of tables array:
// its name for problems, and the dotted key of its table for lines.
type element struct {
	name string // `triage.categories "warranty"`, or "triage.shifts[2]" for an element without a name
	key  string // "triage.categories[3]"
}

func elementOf(array string, i int, name string) element {
	key := array + "[" + strconv.Itoa(i+1) + "]"
	if name == "" {
		return element{name: key, key: key}
	}
	return element{name: array + " " + strconv.Quote(name), key: key}
}

// at returns the dotted key of the element's key k, or of its table when k
// is "".
func (e element) at(k string) string {
	if k == "" {
		return e.key
	}
	return e.key + "." + k
}

// check adds a problem for the element, on the line of its key k, unless ok.
func (e element) check(v *validator, k string, ok bool, format string, args ...any) {
	v.checkAt(e.name, e.at(k), ok, format, args...)
}

// quoteAll quotes each of words and joins them with commas.
func quoteAll(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strconv.Quote(w)
	}
	return strings.Join(q, ", ")
}

// parseClock reads a time of day written HH:MM, from "00:00" to "24:00",
// as minutes after midnight.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || s[0] == '+' || s[0] == '-' || s[3] == '+' || s[3] == '-' {
		return 0, false
	}
	if h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

// isName reports whether s can name a category, flag, team or field: lower
// case ASCII letters, digits and _ or -, starting with a letter or digit.
func isName(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '_' || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// isTag reports whether s is a tag as the ticket package keeps it: lower
// case letters, digits and _-.:/, starting with a letter or digit, at most
// 64 runes.
func isTag(s string) bool {
	n := 0
	for i, r := range s {
		n++
		letter := unicode.IsLower(r) || unicode.Is(unicode.Lo, r) || unicode.IsNumber(r)
		if !letter && (i == 0 || !strings.ContainsRune("_-.:/", r)) {
			return false
		}
	}
	return 0 < n && n <= 64
}

// isStaff reports whether s can be a staff user name: not empty, and
// without spaces.
func isStaff(s string) bool {
	return s != "" && !strings.ContainsFunc(s, unicode.IsSpace)
}

// hasWord reports whether s holds a letter or a digit, which a keyword or
// phrase needs to match anything.
func hasWord(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })
}

// templateProblem returns what is wrong with the placeholders of a text,
// or "".
func templateProblem(text string, allowed ...string) string {
	rest := text
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			return ""
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return fmt.Sprintf("has a { without a }; use %s", braces(allowed))
		}
		name := rest[open+1 : open+end]
		if !slices.Contains(allowed, name) {
			return fmt.Sprintf("unknown placeholder {%s}; use %s", name, braces(allowed))
		}
		rest = rest[open+end+1:]
	}
}

func braces(names []string) string {
	b := make([]string, len(names))
	for i, n := range names {
		b[i] = "{" + n + "}"
	}
	return strings.Join(b, ", ")
}

// weekly checks the days and times of an opening period or shift.
func (v *validator) weekly(e element, days []string, from, to string) {
	e.check(v, "days", len(days) > 0, "days: must list at least one day, such as [\"mon\", \"tue\"]")
	seen := make(map[string]bool)
	for _, d := range days {
		e.check(v, "days", slices.Contains(words(dayList), d), "days: unknown day %q; use %s", d, quoteAll(words(dayList)))
		e.check(v, "days", !seen[d], "days: %q is listed twice", d)
		seen[d] = true
	}
	f, okFrom := parseClock(from)
	e.check(v, "from", okFrom && f < 24*60, "from: %q is not a time; write HH:MM, such as \"09:00\"", from)
	t, okTo := parseClock(to)
	e.check(v, "to", okTo, "to: %q is not a time; write HH:MM, such as \"18:00\" (\"24:00\" is midnight)", to)
	if okFrom && okTo {
		e.check(v, "to", f < t, "to: %s must be after from (%s)", to, from)
	}
}

// hours checks the [hours] table.
func (v *validator) hours(h Hours) {
	seen := make(map[string]int)
	for i, d := range h.Holidays {
		_, err := time.Parse(time.DateOnly, d)
		v.check("hours.holidays", err == nil, "holiday %d: %q is not a date; write YYYY-MM-DD, such as \"2026-12-25\"", i+1, d)
		if first, ok := seen[d]; ok {
			v.check("hours.holidays", false, "holiday %d: %s is listed twice (first as holiday %d)", i+1, d, first)
		}
		seen[d] = i + 1
	}
	if msg := templateProblem(h.AfterHoursReply, "shop", "hours"); msg != "" {
		v.check("hours.after_hours_reply", false, "%s", msg)
	}
	v.check("hours.open", len(h.Open) > 0, "must list at least one opening period [[hours.open]]")
	for i, o := range h.Open {
		v.weekly(elementOf("hours.open", i, ""), o.Days, o.From, o.To)
	}
}

// terms checks the keywords, phrases and patterns of a matching rule.
func (v *validator) terms(e element, keywords, phrases, patterns []string) {
	for i, k := range keywords {
		e.check(v, "keywords", hasWord(k), "keyword %d: %q has no letter or digit", i+1, k)
		e.check(v, "keywords", len(strings.FieldsFunc(k, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) })) <= 1,
			"keyword %d: %q is more than one word; put it in phrases", i+1, k)
	}
	for i, p := range phrases {
		e.check(v, "phrases", hasWord(p), "phrase %d: %q has no letter or digit", i+1, p)
	}
	for i, p := range patterns {
		_, err := CompilePattern(p)
		if err != nil {
			e.check(v, "patterns", false, "pattern %d: %v", i+1, err)
		}
	}
}

// unique checks that an element's name was not used by an earlier element.
func (v *validator) unique(e element, key, name string, seen map[string]bool) {
	e.check(v, key, !seen[name], "%s: %q is used by an earlier rule", key, name)
	seen[name] = true
}

// triage checks the [triage] table.
func (v *validator) triage(t Triage) {
	v.check("triage.repeat_window", t.RepeatWindow.Duration > 0, "must be more than 0s, not %v", t.RepeatWindow)
	between(v, "triage.repeat_count", t.RepeatCount, 2, 16)
	for _, ch := range words(channelList) {
		p, _ := t.ChannelPriority.Of(ch)
		v.oneOf("triage.channel_priority."+ch, p, words(priorityList)...)
	}

	teams := make(map[string]bool)
	members := make(map[string]bool)
	for i, tm := range t.Teams {
		e := elementOf("triage.teams", i, tm.Name)
		e.check(v, "name", isName(tm.Name), "name: %q must be lower-case letters, digits, _ and -", tm.Name)
		v.unique(e, "name", tm.Name, teams)
		inTeam := make(map[string]bool)
		for j, m := range tm.Members {
			e.check(v, "members", isStaff(m), "member %d: %q is not a staff user name", j+1, m)
			e.check(v, "members", !inTeam[m], "member %d: %q is listed twice", j+1, m)
			inTeam[m], members[m] = true, true
		}
		e.check(v, "strategy", slices.Contains(words(strategyList), tm.Strategy), "strategy: must be one of %s, not %q", quoteAll(words(strategyList)), tm.Strategy)
		switch {
		case tm.Strategy == "fixed" && tm.Assignee == "":
			e.check(v, "strategy", false, "strategy \"fixed\" needs an assignee")
		case tm.Strategy == "fixed":
			e.check(v, "assignee", inTeam[tm.Assignee], "assignee: %q is not a member of the team", tm.Assignee)
		case tm.Assignee != "":
			e.check(v, "assignee", false, "assignee: only for strategy \"fixed\", not %q", tm.Strategy)
		}
	}
	for i, s := range t.Shifts {
		e := elementOf("triage.shifts", i, "")
		e.check(v, "who", members[s.Who], "who: %q is not a member of any team", s.Who)
		v.weekly(e, s.Days, s.From, s.To)
	}

	names := make(map[string]bool)
	fallback := ""
	for i, c := range t.Categories {
		e := elementOf("triage.categories", i, c.Name)
		e.check(v, "name", isName(c.Name), "name: %q must be lower-case letters, digits, _ and -", c.Name)
		v.unique(e, "name", c.Name, names)
		e.check(v, "team", c.Team == "" || teams[c.Team], "team: %q is not a team in [[triage.teams]]", c.Team)
		v.terms(e, c.Keywords, c.Phrases, c.Patterns)
		for j, tag := range c.Tags {
			e.check(v, "tags", isTag(tag), "tag %d: %q must be lower-case letters, digits and _-.:/", j+1, tag)
		}
		e.check(v, "min_score", 0 <= c.MinScore && c.MinScore <= 100, "min_score: must be from 0 to 100, not %d", c.MinScore)
		if len(c.Keywords)+len(c.Phrases)+len(c.Patterns) == 0 {
			e.check(v, "", fallback == "", "has no keywords, phrases or patterns, and only one category can be the fallback (%q is)", fallback)
			if fallback == "" {
				fallback = c.Name
			}
		}
	}
	tags := make(map[string]bool)
	for i, r := range t.Tags {
		e := elementOf("triage.tags", i, r.Name)
		e.check(v, "name", isTag(r.Name), "name: %q must be lower-case letters, digits and _-.:/", r.Name)
		v.unique(e, "name", r.Name, tags)
		e.check(v, "", len(r.Keywords)+len(r.Phrases)+len(r.Patterns) > 0, "needs keywords, phrases or patterns")
		v.terms(e, r.Keywords, r.Phrases, r.Patterns)
	}
	flags := make(map[string]bool)
	for i, f := range t.Flags {
		e := elementOf("triage.flags", i, f.Name)
		e.check(v, "name", isName(f.Name), "name: %q must be lower-case letters, digits, _ and -", f.Name)
		v.unique(e, "name", f.Name, flags)
		e.check(v, "priority", slices.Contains(words(priorityList), f.Priority), "priority: must be one of %s, not %q", quoteAll(words(priorityList)), f.Priority)
		e.check(v, "", len(f.Keywords)+len(f.Phrases)+len(f.Patterns) > 0, "needs keywords, phrases or patterns")
		v.terms(e, f.Keywords, f.Phrases, f.Patterns)
	}
	fields := make(map[string]bool)
	for i, x := range t.Extract {
		e := elementOf("triage.extract", i, x.Field)
		ok := x.Field != ""
		for _, r := range x.Field {
			ok = ok && ('a' <= r && r <= 'z' || r == '_')
		}
		e.check(v, "field", ok, "field: %q must be lower-case letters and _", x.Field)
		v.unique(e, "field", x.Field, fields)
		re, err := CompilePattern(x.Pattern)
		switch {
		case err != nil:
			e.check(v, "pattern", false, "pattern: %v", err)
		case re.NumSubexp() == 0:
			e.check(v, "pattern", false, "pattern: needs a group in parentheses around the value, such as (\\d+)")
		}
	}
}

// sla checks the [sla] table.
func (v *validator) sla(s SLA) {
	v.check("sla.escalate_before", s.EscalateBefore.Duration >= 0, "must not be negative, not %v", s.EscalateBefore)
	for _, p := range words(priorityList) {
		t, _ := s.For(p)
		key := "sla." + p
		v.check(key+".first_response", t.FirstResponse.Duration > 0, "must be more than 0s, not %v", t.FirstResponse)
		v.check(key+".resolution", t.Resolution.Duration >= t.FirstResponse.Duration,
			"must not be less than %s.first_response (%v), not %v", key, t.FirstResponse, t.Resolution)
	}
}

// automations checks the [[automations]] rules against the rest of c.
func (v *validator) automations(c Config) {
	categories := make(map[string]bool)
	for _, cat := range c.Triage.Categories {
		categories[cat.Name] = true
	}
	names := make(map[string]bool)
	for i, a := range c.Automations {
		e := elementOf("automations", i, a.Name)
		e.check(v, "name", strings.TrimSpace(a.Name) != "", "name: must not be empty")
		e.check(v, "name", !strings.HasPrefix(a.Name, "sla/"), "name: must not begin with \"sla/\", which names the SLA timers")
		v.unique(e, "name", a.Name, names)
		timer := slices.Contains(words(timerList), a.When)
		e.check(v, "when", timer || slices.Contains(words(eventList), a.When),
			"when: must be one of %s, not %q", quoteAll(words(eventList+" "+timerList)), a.When)
		switch {
		case timer:
			e.check(v, "after", a.After.Duration > 0, "after: %q needs a time after which it fires, such as after = \"168h\"", a.When)
		case a.After.Duration != 0:
			e.check(v, "after", false, "after: only for the timers %s, not %q", quoteAll(words(timerList)), a.When)
		}

		cond := a.If
		check := func(key string, values, allowed []string) {
			for _, x := range values {
				e.check(v, "if."+key, slices.Contains(allowed, x), "if.%s: unknown %s %q; use %s", key, key, x, quoteAll(allowed))
			}
		}
		check("channel", cond.Channel, words(channelList))
		check("priority", cond.Priority, words(priorityList))
		check("status", cond.Status, words(statusList))
		for _, x := range cond.Category {
			e.check(v, "if.category", categories[x], "if.category: %q is not a category in [[triage.categories]]", x)
		}
		for _, x := range cond.Tag {
			e.check(v, "if.tag", isTag(x), "if.tag: %q must be lower-case letters, digits and _-.:/", x)
		}
		e.check(v, "if.business_hours", cond.BusinessHours == "" || slices.Contains(words(businessHoursList), cond.BusinessHours),
			"if.business_hours: must be one of %s, not %q", quoteAll(words(businessHoursList)), cond.BusinessHours)

		e.check(v, "", len(a.Then) > 0, "needs at least one action [[automations.then]]")
		for j, act := range a.Then {
			v.action(e, j, act)
		}
	}
	for _, p := range loops(c.Automations) {
		e := elementOf("automations", p.rule, c.Automations[p.rule].Name)
		e.check(v, "", false, "loop: %s", p.path)
	}
}

// action checks the j-th action of an automation.
func (v *validator) action(e element, j int, act Action) {
	at := elementOf(e.key+".then", j, "").key
	check := func(ok bool, format string, args ...any) {
		v.checkAt(e.name, at, ok, "action %d: "+format, append([]any{j + 1}, args...)...)
	}
	if !slices.Contains(words(actionList), act.Action) {
		check(false, "unknown action %q; use %s", act.Action, quoteAll(words(actionList)))
		return
	}
	if act.Value == "" {
		check(false, "%s needs a value", act.Action)
		return
	}
	switch act.Action {
	case "set_priority":
		check(slices.Contains(words(priorityList), act.Value), "unknown priority %q; use %s", act.Value, quoteAll(words(priorityList)))
	case "set_status":
		check(slices.Contains(words(statusList), act.Value), "unknown status %q; use %s", act.Value, quoteAll(words(statusList)))
	case "tag":
		check(isTag(act.Value), "tag %q must be lower-case letters, digits and _-.:/", act.Value)
	case "assign":
		check(isStaff(act.Value), "%q is not a staff user name", act.Value)
	default: // note, reply, notify
		if msg := templateProblem(act.Value, "number", "shop", "hours"); msg != "" {
			check(false, "value %s", msg)
		}
	}
}
