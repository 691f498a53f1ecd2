package config

import (
	"reflect"
	"strings"
	"testing"
)

// rulesFile is a configuration of a shop with two teams, written as an
// owner would.
const rulesFile = `[shop]
name = "Wings & Things"
time_zone = "Europe/London"

[hours]
holidays = ["2026-12-25", "2026-12-26"]

[[hours.open]]
days = ["mon", "tue", "wed", "thu", "fri"]
from = "09:30"
to = "17:30"

[triage]
repeat_count = 4

[triage.channel_priority]
sms = "high"

[[triage.categories]]
name = "warranty"
team = "workshop"
keywords = ["warranty"]
patterns = ['\bdoa\b']
min_score = 2

[[triage.categories]]
name = "general"

[[triage.teams]]
name = "workshop"
members = ["bob", "carla"]
strategy = "least_open"

[[triage.shifts]]
who = "bob"
days = ["mon"]
from = "09:30"
to = "13:00"

[[automations]]
name = "ack sms"
when = "created"
[automations.if]
channel = ["sms"]
business_hours = "closed"
[[automations.then]]
action = "reply"
value = "Thanks! {shop} opens {hours}."
`

func TestParseRules(t *testing.T) {
	got, err := Parse([]byte(rulesFile))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := Default()
	want.Shop.Name = "Wings & Things"
	want.Shop.TimeZone = "Europe/London"
	want.Hours.Holidays = []string{"2026-12-25", "2026-12-26"}
	want.Hours.Open = []OpenHours{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:30", To: "17:30"}}
	want.Triage.RepeatCount = 4
	want.Triage.ChannelPriority.SMS = "high"
	want.Triage.Categories = []Category{
		{Name: "warranty", Team: "workshop", Keywords: []string{"warranty"}, Patterns: []string{`\bdoa\b`}, MinScore: 2},
		{Name: "general"},
	}
	want.Triage.Teams = []Team{{Name: "workshop", Members: []string{"bob", "carla"}, Strategy: "least_open"}}
	want.Triage.Shifts = []Shift{{Who: "bob", Days: []string{"mon"}, From: "09:30", To: "13:00"}}
	want.Automations = []Automation{{
		Name: "ack sms",
		When: "created",
		If:   Conditions{Channel: []string{"sms"}, BusinessHours: "closed"},
		Then: []Action{{Action: "reply", Value: "Thanks! {shop} opens {hours}."}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseRulesInline(t *testing.T) {
	file := "[hours]\nopen = [\n  {days = [\"sat\"], from = \"10:00\", to = \"16:00\"},\n  {days = [\"sun\"], from = \"11:00\", to = \"10:00\"},\n]\n"
	_, err := Parse([]byte(file))
	checkProblems(t, err, "", []problem{{4, "hours.open[2]", "to: 10:00 must be after from (11:00)"}})
}

func TestRuleProblems(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []problem
	}{
		{
			name: "bad pattern",
			file: "[[triage.categories]]\nname = \"warranty\"\nkeywords = [\"warranty\"]\npatterns = ['\\bdoa\\b', '(unclosed']\n",
			want: []problem{{4, `triage.categories "warranty"`, "pattern 2: error parsing regexp: missing closing ): `(unclosed`"}},
		},
		{
			// Go accepts it, as a program of about a million steps that
			// would make every request cost a long scan.
			name: "pattern too large once written out",
			file: "[[triage.categories]]\nname = \"warranty\"\npatterns = ['\\bdoa\\b', '(?:" + strings.Repeat("ab", 500) + "){1000}']\n",
			want: []problem{{3, `triage.categories "warranty"`, "pattern 2: too large: with its repetitions written out it comes to more than 2000 steps"}},
		},
		{
			name: "unknown key in an element",
			file: "[[triage.categories]]\nname = \"a\"\nkeyword = [\"x\"]\n",
			want: []problem{{3, "triage.categories[1].keyword", "unknown key"}},
		},
		{
			name: "array written as a table",
			file: "[triage.categories]\nname = \"a\"\n",
			want: []problem{{1, "triage.categories", "must be an array of tables [[triage.categories]]"}},
		},
		{
			name: "table of an element before the element",
			file: "[automations.if]\nchannel = [\"sms\"]\n",
			want: []problem{{1, "automations.if", "must come after a [[automations]] table"}},
		},
		{
			name: "wrong type in an element",
			file: "[[triage.flags]]\nname = \"x\"\npriority = \"high\"\nnotify = \"yes\"\nkeywords = [\"x\"]\n",
			want: []problem{{4, "triage.flags[1].notify", "must be true or false, not a string"}},
		},
		{
			name: "unknown priorities",
			file: "[triage.channel_priority]\nsms = \"asap\"\n\n[[triage.flags]]\nname = \"x\"\npriority = \"critical\"\nkeywords = [\"x\"]\n",
			want: []problem{
				{2, "triage.channel_priority.sms", `not "asap"`},
				{6, `triage.flags "x"`, `priority: must be one of "low", "normal", "high", "urgent", not "critical"`},
			},
		},
		{
			name: "unknown channel priority key",
			file: "[triage.channel_priority]\nfax = \"high\"\n",
			want: []problem{{2, "triage.channel_priority.fax", "unknown key"}},
		},
		{
			name: "opening hours",
			file: "[hours]\nholidays = [\"2026-12-25\", \"25/12/2026\", \"2026-12-25\"]\nafter_hours_reply = \"See you at {opening}\"\n\n" +
				"[[hours.open]]\ndays = [\"mon\", \"mo\"]\nfrom = \"9:00\"\nto = \"18:00\"\n\n[[hours.open]]\ndays = [\"sat\"]\nfrom = \"16:00\"\nto = \"10:00\"\n",
			want: []problem{
				{2, "hours.holidays", `holiday 2: "25/12/2026" is not a date`},
				{2, "hours.holidays", "holiday 3: 2026-12-25 is listed twice (first as holiday 1)"},
				{3, "hours.after_hours_reply", "unknown placeholder {opening}; use {shop}, {hours}"},
				{6, "hours.open[1]", `days: unknown day "mo"`},
				{7, "hours.open[1]", `from: "9:00" is not a time`},
				{13, "hours.open[2]", "to: 10:00 must be after from (16:00)"},
			},
		},
		{
			name: "no opening hours",
			file: "[hours]\nopen = []\n",
			want: []problem{{2, "hours.open", "must list at least one opening period"}},
		},
		{
			name: "duplicate names and fallbacks",
			file: "[[triage.categories]]\nname = \"a\"\n\n[[triage.categories]]\nname = \"b\"\n\n[[triage.categories]]\nname = \"a\"\nkeywords = [\"x\"]\n",
			want: []problem{
				{4, `triage.categories "b"`, `only one category can be the fallback ("a" is)`},
				{8, `triage.categories "a"`, `name: "a" is used by an earlier rule`},
			},
		},
		{
			name: "terms",
			file: "[[triage.tags]]\nname = \"Lipo\"\nkeywords = [\"lipo battery\", \"!!\"]\n\n[[triage.tags]]\nname = \"empty\"\n",
			want: []problem{
				{2, `triage.tags "Lipo"`, `name: "Lipo" must be lower-case letters, digits and _-.:/`},
				{3, `triage.tags "Lipo"`, `keyword 1: "lipo battery" is more than one word; put it in phrases`},
				{3, `triage.tags "Lipo"`, `keyword 2: "!!" has no letter or digit`},
				{5, `triage.tags "empty"`, "needs keywords, phrases or patterns"},
			},
		},
		{
			name: "teams",
			file: "[[triage.teams]]\nname = \"workshop\"\nmembers = [\"bob\", \"bob\"]\nstrategy = \"fixed\"\n\n" +
				"[[triage.teams]]\nname = \"sales\"\nmembers = [\"erin\"]\nstrategy = \"random\"\nassignee = \"erin\"\n\n" +
				"[[triage.teams]]\nname = \"shop\"\nmembers = [\"finn\"]\nstrategy = \"fixed\"\nassignee = \"gina\"\n\n" +
				"[[triage.categories]]\nname = \"a\"\nteam = \"workshops\"\nkeywords = [\"x\"]\n",
			want: []problem{
				{3, `triage.teams "workshop"`, `member 2: "bob" is listed twice`},
				{4, `triage.teams "workshop"`, `strategy "fixed" needs an assignee`},
				{9, `triage.teams "sales"`, `strategy: must be one of "round_robin", "least_open", "fixed", not "random"`},
				{10, `triage.teams "sales"`, `assignee: only for strategy "fixed"`},
				{16, `triage.teams "shop"`, `assignee: "gina" is not a member of the team`},
				{20, `triage.categories "a"`, `team: "workshops" is not a team`},
			},
		},
		{
			name: "shifts",
			file: "[[triage.teams]]\nname = \"shop\"\nmembers = [\"bob\"]\nstrategy = \"round_robin\"\n\n" +
				"[[triage.shifts]]\nwho = \"rob\"\ndays = [\"fri\"]\nfrom = \"09:00\"\nto = \"25:00\"\n",
			want: []problem{
				{7, "triage.shifts[1]", `who: "rob" is not a member of any team`},
				{10, "triage.shifts[1]", `to: "25:00" is not a time`},
			},
		},
		{
			name: "extract",
			file: "[[triage.extract]]\nfield = \"Order-No\"\npattern = 'order \\d+'\n\n[[triage.extract]]\nfield = \"sku\"\npattern = '(sku'\n",
			want: []problem{
				{2, `triage.extract "Order-No"`, `field: "Order-No" must be lower-case letters and _`},
				{3, `triage.extract "Order-No"`, "pattern: needs a group in parentheses"},
				{7, `triage.extract "sku"`, "pattern: error parsing regexp"},
			},
		},
		{
			name: "sla",
			file: "[sla]\nescalate_before = \"-1m\"\n[sla.high]\nfirst_response = \"0s\"\n[sla.urgent]\nfirst_response = \"2h\"\nresolution = \"1h\"\n",
			want: []problem{
				{2, "sla.escalate_before", "must not be negative"},
				{4, "sla.high.first_response", "must be more than 0s"},
				{7, "sla.urgent.resolution", "must not be less than sla.urgent.first_response (2h), not 1h"},
			},
		},
		{
			name: "triage numbers",
			file: "[triage]\nrepeat_window = \"0s\"\nrepeat_count = 1\n",
			want: []problem{
				{2, "triage.repeat_window", "must be more than 0s"},
				{3, "triage.repeat_count", "must be from 2 to 16, not 1"},
			},
		},
		{
			name: "automation events and timers",
			file: "[[automations]]\nname = \"a\"\nwhen = \"updated\"\n[[automations.then]]\naction = \"note\"\nvalue = \"x\"\n\n" +
				"[[automations]]\nname = \"b\"\nwhen = \"no_staff_reply\"\n[[automations.then]]\naction = \"note\"\nvalue = \"x\"\n\n" +
				"[[automations]]\nname = \"c\"\nwhen = \"created\"\nafter = \"1h\"\n[[automations.then]]\naction = \"note\"\nvalue = \"x\"\n\n" +
				"[[automations]]\nname = \"c\"\nwhen = \"created\"\n",
			want: []problem{
				{3, `automations "a"`, `when: must be one of "created", "message", "status_changed", "assigned", "no_staff_reply", "pending_for", not "updated"`},
				{8, `automations "b"`, "needs a time after which it fires"},
				{18, `automations "c"`, `after: only for the timers "no_staff_reply", "pending_for", not "created"`},
				{23, `automations "c"`, "needs at least one action"},
				{24, `automations "c"`, `name: "c" is used by an earlier rule`},
			},
		},
		{
			name: "automation conditions and actions",
			file: "[[automations]]\nname = \"a\"\nwhen = \"created\"\n" +
				"[automations.if]\nchannel = [\"fax\"]\ncategory = [\"nope\"]\nstatus = [\"done\"]\nbusiness_hours = \"weekends\"\n" +
				"[[automations.then]]\naction = \"set_status\"\nvalue = \"solved\"\n" +
				"[[automations.then]]\naction = \"set_priority\"\nvalue = \"p1\"\n" +
				"[[automations.then]]\naction = \"email\"\nvalue = \"x\"\n" +
				"[[automations.then]]\naction = \"reply\"\n" +
				"[[automations.then]]\naction = \"reply\"\nvalue = \"Ticket {ticket}\"\n",
			want: []problem{
				{5, `automations "a"`, `if.channel: unknown channel "fax"`},
				{6, `automations "a"`, `if.category: "nope" is not a category`},
				{7, `automations "a"`, `if.status: unknown status "done"`},
				{8, `automations "a"`, `if.business_hours: must be one of "any", "open", "closed", not "weekends"`},
				{9, `automations "a"`, `action 1: unknown status "solved"; use "new", "open", "pending", "resolved", "closed", "spam", "archived"`},
				{12, `automations "a"`, `action 2: unknown priority "p1"`},
				{15, `automations "a"`, `action 3: unknown action "email"`},
				{18, `automations "a"`, "action 4: reply needs a value"},
				{20, `automations "a"`, "action 5: value unknown placeholder {ticket}; use {number}, {shop}, {hours}"},
			},
		},
		{
			name: "loop of two rules",
			file: "[[automations]]\nname = \"reopen\"\nwhen = \"assigned\"\n[[automations.then]]\naction = \"set_status\"\nvalue = \"open\"\n\n" +
				"[[automations]]\nname = \"note it\"\nwhen = \"created\"\n[[automations.then]]\naction = \"note\"\nvalue = \"x\"\n\n" +
				"[[automations]]\nname = \"hand over\"\nwhen = \"status_changed\"\n[[automations.then]]\naction = \"note\"\nvalue = \"x\"\n" +
				"[[automations.then]]\naction = \"assign\"\nvalue = \"bob\"\n",
			want: []problem{
				{1, `automations "reopen"`, "loop: reopen -> hand over -> reopen"},
				{15, `automations "hand over"`, "loop: hand over -> reopen -> hand over"},
			},
		},
		{
			name: "loop of one rule",
			file: "[[automations]]\nname = \"keep open\"\nwhen = \"status_changed\"\n[automations.if]\nstatus = [\"pending\"]\n[[automations.then]]\naction = \"set_status\"\nvalue = \"open\"\n",
			want: []problem{{1, `automations "keep open"`, "loop: keep open -> keep open"}},
		},
		{
			name: "sync targets",
			file: `[sync]
parallel = 0

[[sync.targets]]
type = "zendesk"
name = "Zendesk Main"
base_url = "https://user:pw@shop.zendesk.com"

[[sync.targets]]
type = "jira"
name = "z2"
base_url = "shop.example"

[[sync.targets]]
type = "hubspot"
name = "z2"
base_url = "https://api.hubapi.com"
stages = { solved = "4" }
`,
			want: []problem{
				{2, "sync.parallel", "must be from 1 to 32"},
				{4, `sync.targets "Zendesk Main"`, "email: an API token needs the address of the agent"},
				{6, `sync.targets "Zendesk Main"`, "name: \"Zendesk Main\" must be 1 to 32 lower-case letters, digits and -"},
				{7, `sync.targets "Zendesk Main"`, `base_url: must be an https address such as "https://shop.zendesk.com", without a user or password, not "https://user:xxxxx@shop.zendesk.com"`},
				{10, `sync.targets "z2"`, `type: must be one of "zendesk", "freshdesk", "hubspot", "webhook", not "jira"`},
				{12, `sync.targets "z2"`, "base_url: must be an https address"},
				{16, `sync.targets "z2"`, `name: "z2" is used by an earlier rule`},
				{18, `sync.targets "z2"`, `stages: "solved" is not a status`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.file))
			checkProblems(t, err, "", tt.want)
		})
	}
}

func TestValidateRules(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   []problem
	}{
		{"default", func(*Config) {}, nil},
		{
			name: "regexp",
			change: func(c *Config) {
				c.Triage.Categories[3].Patterns = []string{`\bok\b`, `[a-`}
			},
			want: []problem{{0, `triage.categories "warranty"`, "pattern 2: error parsing regexp: missing closing ]: `[a-`"}},
		},
		{
			name: "self loop",
			change: func(c *Config) {
				c.Automations = append(c.Automations, Automation{
					Name: "unassign", When: "assigned",
					Then: []Action{{Action: "assign", Value: "bob"}},
				})
			},
			want: []problem{{0, `automations "unassign"`, "loop: unassign -> unassign"}},
		},
		{
			name: "unnamed shift",
			change: func(c *Config) {
				c.Triage.Shifts = []Shift{{Who: "bob", Days: []string{"mon"}, From: "10:00", To: "09:00"}}
				c.Triage.Teams[0].Members = []string{"bob"}
			},
			want: []problem{{0, "triage.shifts[1]", "to: 09:00 must be after from (10:00)"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			checkProblems(t, err, "", tt.want)
		})
	}
}

func TestLoops(t *testing.T) {
	rule := func(name, when string, actions ...string) Automation {
		a := Automation{Name: name, When: when}
		for _, act := range actions {
			a.Then = append(a.Then, Action{Action: act, Value: "x"})
		}
		return a
	}
	tests := []struct {
		name  string
		rules []Automation
		want  []loop
	}{
		{
			name: "no loop",
			rules: []Automation{
				rule("close", "pending_for", "set_status", "note"),
				rule("ack", "created", "reply", "tag", "set_priority"),
				rule("answer", "message", "reply"),
				rule("on close", "status_changed", "note", "notify"),
			},
		},
		{
			name: "chain without loop",
			rules: []Automation{
				rule("a", "created", "assign"),
				rule("b", "assigned", "set_status"),
				rule("c", "status_changed", "note"),
			},
		},
		{
			name: "three rules",
			rules: []Automation{
				rule("a", "assigned", "set_status"),
				rule("outside", "created", "assign"),
				rule("b", "status_changed", "note", "assign"),
			},
			want: []loop{{0, "a -> b -> a"}, {2, "b -> a -> b"}},
		},
		{
			name: "self loop and a rule leading into it",
			rules: []Automation{
				rule("self", "status_changed", "set_status"),
				rule("feeder", "assigned", "set_status"),
			},
			want: []loop{{0, "self -> self"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loops(tt.rules); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("loops = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLoadRules(t *testing.T) {
	path := writeFile(t, "[[triage.teams]]\nname = \"shop\"\nmembers = [\"bob\"]\nstrategy = \"fixed\"\n")
	got, err := Load(path, []string{"COUNTERDESK_HOURS_HOLIDAYS=2026-12-25, 2026-12-26", "COUNTERDESK_TRIAGE_CHANNEL_PRIORITY_SMS=high"})
	if err == nil {
		t.Fatalf("Load = %+v, want the problem of the fixed team without assignee", got)
	}
	want := []Problem{{Line: 4, Key: `triage.teams "shop"`, Message: `strategy "fixed" needs an assignee`, at: "triage.teams[1].strategy"}}
	if ps := err.(*Problems); !reflect.DeepEqual(ps.List, want) {
		t.Errorf("problems = %#v, want %#v", ps.List, want)
	}

	got, err = Load("", []string{"COUNTERDESK_HOURS_HOLIDAYS=2026-12-25, 2026-12-26", "COUNTERDESK_TRIAGE_CHANNEL_PRIORITY_SMS=high"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if h := got.Hours.Holidays; !reflect.DeepEqual(h, []string{"2026-12-25", "2026-12-26"}) {
		t.Errorf("holidays = %q", h)
	}
	if p := got.Triage.ChannelPriority.SMS; p != "high" {
		t.Errorf("sms priority = %q, want high", p)
	}

	_, err = Load("", []string{"COUNTERDESK_HOURS_HOLIDAYS=christmas"})
	want = []Problem{{Key: "COUNTERDESK_HOURS_HOLIDAYS", Message: `holiday 1: "christmas" is not a date; write YYYY-MM-DD, such as "2026-12-25"`, Source: SourceEnv}}
	if ps, ok := err.(*Problems); !ok || !reflect.DeepEqual(ps.List, want) {
		t.Errorf("Load error = %v, want %v", err, want)
	}
}
