package triage

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
)

// TestClassifyDefaults runs real-looking requests in English, Portuguese and
// Turkish through the default rules, on a Monday morning.
func TestClassifyDefaults(t *testing.T) {
	e := newEngine(t, nil)
	tests := []struct {
		name                 string
		channel              string
		subject, body, voice string
		priority, category   string
		tags                 []string // tags the decision must have, in order
		fields               map[string]string
		notify               bool
		rule                 string // the rule that set the priority
	}{
		// The seed phrases of the issue.
		{name: "seed order status", channel: "web_form", body: "order status", priority: "normal", category: "order_status", rule: "channel_priority"},
		{name: "seed warranty", channel: "web_form", body: "warranty", priority: "normal", category: "warranty", rule: "channel_priority"},
		{name: "seed troubleshooting", channel: "web_form", body: "troubleshooting", priority: "normal", category: "troubleshooting", rule: "channel_priority"},

		// English.
		{
			name: "shouting order status", channel: "email",
			subject: "WHERE IS MY ORDER??", body: "I ordered on Friday and have heard nothing. Order #10452.",
			priority: "normal", category: "order_status", fields: map[string]string{"order_number": "10452"},
		},
		{
			name: "parcel not arrived", channel: "email",
			subject: "Delivery", body: "Hi, my parcel still has not arrived. Tracking number RR123456785GB, can you chase Royal Mail?",
			priority: "normal", category: "shipping", fields: map[string]string{"tracking_number": "RR123456785GB"},
		},
		{
			name: "refund", channel: "web_form",
			body:     "The glider kit was the wrong scale, I'd like to send it back and get my money back please.",
			priority: "normal", category: "returns_refunds", tags: []string{"kit_assembly"},
		},
		{
			name: "refund asked urgently", channel: "email",
			body:     "I want a refund for order 88812 ASAP",
			priority: "high", category: "returns_refunds", fields: map[string]string{"order_number": "88812"}, rule: "flags/urgent_words",
		},
		{
			name: "warranty servo", channel: "email",
			subject: "Warranty claim", body: "The metal gear servo I bought last month is faulty: it jitters and buzzes at centre.",
			priority: "normal", category: "warranty", tags: []string{"servo"},
		},
		{
			name: "quad will not arm", channel: "web_form",
			body:     "My quad won't arm. Betaflight shows RX_LOSS even though the ELRS receiver is bound to my transmitter.",
			priority: "normal", category: "troubleshooting", tags: []string{"receiver", "flight_controller"},
		},
		{
			name: "esc beeping", channel: "email",
			body:     "My ESC keeps beeping and the motor won't spin. It's the ESC-40A.",
			priority: "normal", category: "troubleshooting", tags: []string{"esc", "motor"}, fields: map[string]string{"product_code": "ESC-40A"},
		},
		{
			name: "escape is not an esc", channel: "email",
			body:     "Pressing escape on the simulator closes the menu, is that expected?",
			priority: "normal", category: "general",
		},
		{
			name: "spare parts after a crash", channel: "web_form",
			body:     "Crashed my Ranger and the landing gear snapped. Do you have spare parts for it? SKU 40213",
			priority: "normal", category: "parts_availability", tags: []string{"crash_repair"}, fields: map[string]string{"product_code": "40213"},
		},
		{
			name: "props", channel: "sms",
			body:     "do you stock 5x4.5 props",
			priority: "normal", category: "parts_availability", tags: []string{"propeller"},
		},
		{
			name: "charger for lipo", channel: "email",
			body:     "Which balance charger do you recommend for 4S LiPos?",
			priority: "normal", category: "general", tags: []string{"lipo"},
		},
		{
			name: "build instructions", channel: "email",
			body:     "The assembly instructions in the kit skip the tail section.",
			priority: "normal", category: "general", tags: []string{"kit_assembly"},
		},
		{
			name: "opening question", channel: "sms",
			body:     "Hello! Are you open on bank holiday Monday?",
			priority: "normal", category: "general",
		},
		{
			name: "swollen battery", channel: "web_form",
			body:     "I have a swollen battery after a flight, is it safe to charge?",
			priority: "urgent", category: "troubleshooting", tags: []string{"lipo"}, notify: true, rule: "flags/safety",
		},

		// Voicemail transcripts: no punctuation, no capitals.
		{
			name: "voicemail swollen battery", channel: "voicemail",
			voice:    "hi this is sam my battery is swollen can you call me back on oh seven seven double oh",
			priority: "urgent", category: "troubleshooting", tags: []string{"lipo"}, notify: true, rule: "flags/safety",
		},
		{
			name: "voicemail order", channel: "voicemail",
			voice:    "hi its jo calling about my order where is my order its been a week thanks bye",
			priority: "high", category: "order_status", rule: "channel_priority",
		},
		{
			name: "missed call", channel: "missed_call",
			priority: "high", category: "general", rule: "channel_priority",
		},

		// Portuguese.
		{
			name: "pt not arrived", channel: "email",
			subject: "Encomenda", body: "Olá, o meu pedido nº 55321 ainda não chegou. Podem ver o código de rastreio?",
			priority: "normal", category: "shipping", fields: map[string]string{"order_number": "55321"},
		},
		{
			name: "pt order status", channel: "sms",
			body:     "Qual é o STATUS DO PEDIDO 99120?",
			priority: "normal", category: "order_status", fields: map[string]string{"order_number": "99120"},
		},
		{
			name: "pt crash parts", channel: "web_form",
			body:     "A hélice quebrou na queda. Vocês têm peças de reposição?",
			priority: "normal", category: "parts_availability", tags: []string{"propeller", "crash_repair"},
		},
		{
			name: "pt swollen battery smoke", channel: "sms",
			body:     "BATERIA INCHADA e saindo fumaça do carregador!!",
			priority: "urgent", category: "troubleshooting", tags: []string{"lipo"}, notify: true, rule: "flags/safety",
		},
		{
			name: "pt receiver", channel: "email",
			body:     "O receptor não funciona depois da atualização",
			priority: "normal", category: "troubleshooting", tags: []string{"receiver"},
		},
		{
			name: "pt refund urgent", channel: "email",
			body:     "Quero devolver o avião e receber o reembolso urgente",
			priority: "high", category: "returns_refunds", rule: "flags/urgent_words",
		},

		// Turkish.
		{
			name: "tr order", channel: "sms",
			body:     "Merhaba, siparişim nerede? Sipariş numarası: 778812",
			priority: "normal", category: "order_status", fields: map[string]string{"order_number": "778812"},
		},
		{
			name: "tr capitals", channel: "email",
			subject:  "SİPARİŞ DURUMU",
			priority: "normal", category: "order_status",
		},
		{
			name: "tr warranty", channel: "email",
			body:     "Garanti kapsamında değişim istiyorum, ESC arızalı geldi.",
			priority: "normal", category: "warranty", tags: []string{"esc"},
		},
		{
			name: "tr receiver binding", channel: "web_form",
			body:     "Kumanda ile alıcı eşleştirme sorunu yaşıyorum",
			priority: "normal", category: "troubleshooting", tags: []string{"receiver"},
		},
		{
			name: "tr swollen battery", channel: "sms",
			body:     "Pil şişti ve duman çıkıyor, acil!",
			priority: "urgent", category: "troubleshooting", tags: []string{"lipo"}, notify: true, rule: "flags/safety",
		},
		{
			name: "tr cargo", channel: "email",
			body:     "Kargom hâlâ gelmedi, kargo takip numarası RR123456785TR",
			priority: "normal", category: "shipping", fields: map[string]string{"tracking_number": "RR123456785TR"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.Triage(Input{
				Channel: tt.channel, Subject: tt.subject, Body: tt.body, Transcript: tt.voice,
				ReceivedAt: at(t, monday+" 10:00"), NewTicket: true,
			})
			if d.Priority != tt.priority || d.Category != tt.category || d.Notify != tt.notify {
				t.Errorf("priority, category, notify = %s, %s, %v; want %s, %s, %v\nsteps: %+v",
					d.Priority, d.Category, d.Notify, tt.priority, tt.category, tt.notify, d.Steps)
			}
			if tt.rule != "" && d.Rule != tt.rule {
				t.Errorf("Rule = %q, want %q (%s)", d.Rule, tt.rule, d.Why)
			}
			for _, tag := range tt.tags {
				if !slices.Contains(d.Tags, tag) {
					t.Errorf("tags %q lack %q", d.Tags, tag)
				}
			}
			for k, v := range tt.fields {
				if d.Fields[k] != v {
					t.Errorf("field %s = %q, want %q (fields %q)", k, d.Fields[k], v, d.Fields)
				}
			}
			if d.Team != "shop" || d.Assignee != "" || d.AfterHours {
				t.Errorf("team, assignee, after hours = %q, %q, %v; want shop, nobody, false", d.Team, d.Assignee, d.AfterHours)
			}
		})
	}
}

// TestEveryDefaultRuleReached proves that each default category and tag can
// be reached by a request.
func TestEveryDefaultRuleReached(t *testing.T) {
	e := newEngine(t, nil)
	bodies := []string{
		"where is my order", "tracking number please", "I want a refund", "warranty claim",
		"troubleshooting", "do you have it in stock", "hello",
		"lipo", "servo", "esc", "motor", "propeller", "receiver", "flight controller", "kit", "crash",
	}
	categories := make(map[string]bool)
	tags := make(map[string]bool)
	for _, b := range bodies {
		d := e.Triage(Input{Channel: "email", Body: b, ReceivedAt: at(t, monday+" 10:00"), NewTicket: true})
		categories[d.Category] = true
		for _, tag := range d.Tags {
			tags[tag] = true
		}
	}
	for _, c := range config.Default().Triage.Categories {
		if !categories[c.Name] {
			t.Errorf("no request reached category %s", c.Name)
		}
	}
	for _, tg := range config.Default().Triage.Tags {
		if !tags[tg.Name] {
			t.Errorf("no request reached tag %s", tg.Name)
		}
	}
}

func TestMatching(t *testing.T) {
	e := newEngine(t, func(c *config.Config) {
		c.Triage.Categories = []config.Category{
			{Name: "esc", Keywords: []string{"esc"}},
			{Name: "phrase", Phrases: []string{"where is my order"}, MinScore: 2},
			{Name: "pattern", Patterns: []string{`\b\d+s lipo\b`}},
			{Name: "accents", Keywords: []string{"Ação", "yangın"}},
			{Name: "two", Keywords: []string{"alpha", "beta"}, MinScore: 2},
			{Name: "general"},
		}
	})
	tests := []struct {
		subject, body, voice string
		want                 string
		why                  string
	}{
		{body: "my esc is hot", want: "esc", why: `matched "esc" in the body; score 1`},
		{body: "ESC!", want: "esc"},
		{body: "escape", want: "general", why: "no other category matched"},
		{body: "resc esc2 e.s.c", want: "general"},
		{body: "where is my order", want: "phrase", why: `matched "where is my order" in the body; score 2`},
		{body: "Where... is my ORDER??", want: "phrase"},
		{voice: "hello where is my order thanks", want: "phrase", why: `matched "where is my order" in the transcript; score 2`},
		{subject: "where is", body: "my order", want: "general"}, // a phrase does not run from one part into another
		{body: "where is the order", want: "general"},
		{body: "a 4S LiPo please", want: "pattern", why: `matched "4s lipo" in the body; score 1`},
		{body: "ACAO", want: "accents"},
		{body: "YANGIN var", want: "accents"},
		{body: "alpha", want: "general"},
		{subject: "alpha", body: "beta", want: "two", why: `matched "alpha" in the subject and "beta" in the body; score 2`},
		{body: "alpha alpha alpha", want: "general"}, // a term counts once
	}
	for _, tt := range tests {
		d := e.Triage(Input{Channel: "email", Subject: tt.subject, Body: tt.body, Transcript: tt.voice, ReceivedAt: at(t, monday+" 10:00"), NewTicket: true})
		if d.Category != tt.want {
			t.Errorf("%q/%q/%q: category %q, want %q", tt.subject, tt.body, tt.voice, d.Category, tt.want)
			continue
		}
		if s, _ := stepOf(d, "category"); tt.why != "" && s.Why != tt.why {
			t.Errorf("%q: why %q, want %q", tt.body, s.Why, tt.why)
		}
	}
}

func TestCategoryTiesAndScores(t *testing.T) {
	e := newEngine(t, func(c *config.Config) {
		c.Triage.Categories = []config.Category{
			{Name: "first", Keywords: []string{"servo"}, Tags: []string{"from-first"}},
			{Name: "second", Keywords: []string{"servo", "jitter"}},
			{Name: "third", Keywords: []string{"servo"}},
		}
		c.Automations = nil
	})
	tests := []struct{ body, want string }{
		{"servo", "first"},         // tie: file order
		{"servo jitter", "second"}, // highest score
		{"nothing", ""},            // no fallback
	}
	for _, tt := range tests {
		d := e.Triage(Input{Channel: "email", Body: tt.body, ReceivedAt: at(t, monday+" 10:00"), NewTicket: true})
		if d.Category != tt.want {
			t.Errorf("%q: category %q, want %q", tt.body, d.Category, tt.want)
		}
		if tt.want == "first" && !slices.Contains(d.Tags, "from-first") {
			t.Errorf("%q: tags %q lack the category's tag", tt.body, d.Tags)
		}
		if tt.want == "" && d.Team != "" {
			t.Errorf("%q: team %q without a category", tt.body, d.Team)
		}
	}
}

func TestAfterHours(t *testing.T) {
	e := newEngine(t, func(c *config.Config) {
		c.Triage.Teams[0].Members = []string{"bob", "carla"}
		c.Hours.Holidays = []string{"2026-12-25"}
	})
	tests := []struct {
		name     string
		at       string
		channel  string
		body     string
		priority string
		rule     string
		why      string
	}{
		{
			name: "saturday night voicemail", at: saturday + " 20:00", channel: "voicemail", body: "please call me back",
			priority: "normal", rule: "hours", why: "arrived on Sat 9 May 20:00, outside opening hours; the shop opens Mon 11 May 09:00",
		},
		{
			name: "safety at night", at: saturday + " 20:00", channel: "voicemail", body: "my lipo caught fire",
			priority: "urgent", rule: "flags/safety", why: "arrived on Sat 9 May 20:00, outside opening hours; the shop opens Mon 11 May 09:00",
		},
		{
			name: "christmas", at: "2026-12-25 11:00", channel: "sms", body: "order status",
			priority: "normal", rule: "hours", why: "arrived on Fri 25 Dec 11:00, a holiday; the shop opens Sat 26 Dec 10:00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.Triage(Input{Channel: tt.channel, Body: tt.body, ReceivedAt: at(t, tt.at), NewTicket: true, ContactOwner: "bob"})
			if !d.AfterHours || d.Notify || d.Assignee != "" || d.Team != "shop" {
				t.Errorf("after hours, notify, assignee, team = %v, %v, %q, %q; want true, false, nobody, shop", d.AfterHours, d.Notify, d.Assignee, d.Team)
			}
			if d.Priority != tt.priority || d.Rule != tt.rule {
				t.Errorf("priority %s by %s, want %s by %s", d.Priority, d.Rule, tt.priority, tt.rule)
			}
			if !slices.Contains(d.Tags, TagAfterHours) {
				t.Errorf("tags %q lack %s", d.Tags, TagAfterHours)
			}
			if s, ok := stepOf(d, "after_hours"); !ok || s.Why != tt.why {
				t.Errorf("after_hours step %+v, want why %q", s, tt.why)
			}
		})
	}
}

func TestRepeatContact(t *testing.T) {
	e := newEngine(t, nil)
	now := at(t, monday+" 11:00")
	hoursAgo := func(hs ...int) []time.Time {
		var out []time.Time
		for _, h := range hs {
			out = append(out, now.Add(-time.Duration(h)*time.Hour))
		}
		return out
	}
	tests := []struct {
		name     string
		newT     bool
		current  string
		channel  string
		body     string
		recent   []time.Time
		priority string
		rule     string
	}{
		{name: "first request", newT: true, channel: "email", priority: "normal", rule: "channel_priority"},
		{name: "second request", newT: true, channel: "email", recent: hoursAgo(2), priority: "normal", rule: "channel_priority"},
		{name: "third request", newT: true, channel: "email", recent: hoursAgo(1, 5), priority: "high", rule: "repeat_contact"},
		{name: "third after a day", newT: true, channel: "email", recent: hoursAgo(1, 25), priority: "normal", rule: "channel_priority"},
		{name: "fifth request", newT: true, channel: "email", recent: hoursAgo(1, 2, 3, 4), priority: "high", rule: "repeat_contact"},
		{name: "third voicemail", newT: true, channel: "voicemail", recent: hoursAgo(1, 2), priority: "urgent", rule: "repeat_contact"},
		{name: "third with a flag", newT: true, channel: "email", body: "urgent!", recent: hoursAgo(1, 2), priority: "urgent", rule: "repeat_contact"},
		{name: "urgent stays urgent", newT: true, channel: "email", body: "smoke", recent: hoursAgo(1, 2), priority: "urgent", rule: "flags/safety"},
		{name: "joins at the third", current: "normal", channel: "sms", recent: hoursAgo(1, 2), priority: "high", rule: "repeat_contact"},
		{name: "joins at the fourth", current: "high", channel: "sms", recent: hoursAgo(1, 2, 3), priority: ""},
		{name: "joins with a flag", current: "normal", channel: "sms", body: "this is urgent", priority: "high", rule: "flags/urgent_words"},
		{name: "flag below current", current: "urgent", channel: "sms", body: "this is urgent", priority: ""},
		{name: "joins quietly", current: "low", channel: "sms", body: "thanks", priority: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.Triage(Input{Channel: tt.channel, Body: tt.body, ReceivedAt: now, NewTicket: tt.newT, Recent: tt.recent, Priority: tt.current})
			if d.Priority != tt.priority || d.Rule != tt.rule {
				t.Errorf("priority %q by %q, want %q by %q (%s)", d.Priority, d.Rule, tt.priority, tt.rule, d.Why)
			}
			if !tt.newT && (d.Category != "" || d.Team != "" || !d.FirstResponseDue.IsZero()) {
				t.Errorf("a joining request changed category %q, team %q or SLA %v", d.Category, d.Team, d.FirstResponseDue)
			}
		})
	}
}

func TestRepeatWhy(t *testing.T) {
	e := newEngine(t, nil)
	now := at(t, monday+" 11:00")
	d := e.Triage(Input{Channel: "email", ReceivedAt: now, NewTicket: true, Recent: []time.Time{now.Add(-time.Hour), now.Add(-2 * time.Hour)}})
	if want := "request 3 from this contact within 24h"; d.Why != want {
		t.Errorf("Why = %q, want %q", d.Why, want)
	}
}

func TestExtract(t *testing.T) {
	e := newEngine(t, nil)
	tests := []struct {
		subject, body string
		want          map[string]string
	}{
		{body: "Order #10452 has not arrived", want: map[string]string{"order_number": "10452"}},
		{body: "order no. 5512399", want: map[string]string{"order_number": "5512399"}},
		{body: "ORDER NUMBER: 123456", want: map[string]string{"order_number": "123456"}},
		{body: "my order 12 is late", want: nil}, // too short for an order number
		{body: "Pedido nº 4412 e encomenda 9981", want: map[string]string{"order_number": "4412"}},
		{body: "Siparişim 778812 nerede", want: map[string]string{"order_number": "778812"}},
		{body: "tracking RR123456785GB", want: map[string]string{"tracking_number": "RR123456785GB"}},
		{body: "ups 1Z999AA10123456784 please", want: map[string]string{"tracking_number": "1Z999AA10123456784"}},
		{body: "the HK-1234 servo", want: map[string]string{"product_code": "HK-1234"}},
		{body: "two ESC-40A units", want: map[string]string{"product_code": "ESC-40A"}},
		{body: "sku: ab-123", want: map[string]string{"product_code": "ab-123"}},
		{subject: "Order #2001", body: "Order #3003", want: map[string]string{"order_number": "2001"}},
		{body: "Order #4321, tracking RR123456785GB, SKU 9988", want: map[string]string{
			"order_number": "4321", "tracking_number": "RR123456785GB", "product_code": "9988",
		}},
	}
	for _, tt := range tests {
		d := e.Triage(Input{Channel: "email", Subject: tt.subject, Body: tt.body, ReceivedAt: at(t, monday+" 10:00"), NewTicket: true})
		if !maps.Equal(d.Fields, tt.want) {
			t.Errorf("%q: fields %q, want %q", tt.body, d.Fields, tt.want)
		}
		for k, v := range tt.want {
			if s, ok := stepOf(d, "field:"+k); !ok || s.Value != v || s.Rule != "extract/"+k {
				t.Errorf("%q: step %+v", tt.body, s)
			}
		}
	}
}

func TestSafetyNotify(t *testing.T) {
	e := newEngine(t, nil)
	d := e.Triage(Input{Channel: "sms", Body: "the charger is smoking", ReceivedAt: at(t, monday+" 10:00"), NewTicket: true})
	want := []Step{
		{What: "category", Value: "general", Rule: "categories/general", Why: "no other category matched"},
		{What: "tag", Value: "lipo", Rule: "tags/lipo", Why: `matched "charger" in the body`},
		{What: "priority", Value: "normal", Rule: "channel_priority", Why: "a new sms request during opening hours starts at normal"},
		{What: "priority", Value: "urgent", Rule: "flags/safety", Why: `matched "smoking" in the body`},
		{What: "notify", Value: "true", Rule: "flags/safety", Why: `matched "smoking" in the body`},
		{What: "team", Value: "shop", Rule: "categories/general", Why: "category general goes to team shop"},
		{What: "sla", Value: "first response by 2026-05-04T11:00:00+01:00, resolution by 2026-05-04T18:00:00+01:00", Rule: "sla/urgent",
			Why: "urgent priority: first response within 1h and resolution within 8h, counted around the clock"},
	}
	if !reflect.DeepEqual(d.Steps, want) {
		t.Errorf("steps:\n%s\nwant\n%s", formatSteps(d.Steps), formatSteps(want))
	}
	if !d.Notify || d.Priority != "urgent" || d.Rule != "flags/safety" || d.Why != `matched "smoking" in the body` {
		t.Errorf("decision %+v", d)
	}

	// A follow-up on an existing ticket pages too, while the shop is open.
	d = e.Triage(Input{Channel: "sms", Body: "now it is on fire", ReceivedAt: at(t, monday+" 10:00"), Priority: "normal"})
	if !d.Notify || d.Priority != "urgent" {
		t.Errorf("follow-up: notify %v, priority %q", d.Notify, d.Priority)
	}
}

func formatSteps(steps []Step) string {
	var b strings.Builder
	for _, s := range steps {
		b.WriteString("  " + s.What + " = " + s.Value + " by " + s.Rule + ": " + s.Why + "\n")
	}
	return b.String()
}

func TestDefault(t *testing.T) {
	var d Default
	if got := d.Triage(Input{Channel: "sms", Body: "my battery is on fire", NewTicket: false}); !reflect.DeepEqual(got, Decision{}) {
		t.Errorf("joining request: %+v, want nothing", got)
	}
	want := Decision{Priority: PriorityNormal, Rule: "default", Why: "no triage rules configured; new requests get normal priority"}
	if got := d.Triage(Input{Channel: "sms", Body: "my battery is on fire", NewTicket: true}); !reflect.DeepEqual(got, want) {
		t.Errorf("new request: %+v, want %+v", got, want)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*config.Config)
		want   string
	}{
		{"category pattern", func(c *config.Config) { c.Triage.Categories[3].Patterns = []string{"ok", "(x"} }, "triage: rule categories/warranty: pattern 2: error parsing regexp"},
		{"tag pattern", func(c *config.Config) { c.Triage.Tags[0].Patterns = []string{"[z-a]"} }, "triage: rule tags/lipo: pattern 1: error parsing regexp"},
		{"flag priority", func(c *config.Config) { c.Triage.Flags[1].Priority = "asap" }, `triage: rule flags/urgent_words: unknown priority "asap"`},
		{"extract group", func(c *config.Config) { c.Triage.Extract[0].Pattern = `order \d+` }, "triage: rule extract/order_number: pattern has no group"},
		{"channel priority", func(c *config.Config) { c.Triage.ChannelPriority.SMS = "" }, `triage: channel_priority: sms: unknown priority ""`},
		{"opening hours", func(c *config.Config) { c.Hours.Open[1].To = "9:00" }, `triage: hours: open 2: to "9:00" is not a time`},
		{"holiday", func(c *config.Config) { c.Hours.Holidays = []string{"xmas"} }, `triage: hours: holiday 1: "xmas" is not a date`},
		{"shift", func(c *config.Config) {
			c.Triage.Shifts = []config.Shift{{Who: "bob", Days: []string{"someday"}, From: "09:00", To: "10:00"}}
		}, `triage: shift 1 (bob): unknown day "someday"`},
		{"automation", func(c *config.Config) { c.Automations[0].Then[0].Action = "explode" }, `triage: automation "close stale pending": action 1: unknown action "explode"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.change(&c)
			_, err := New(c)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("New error = %v, want one starting %q", err, tt.want)
			}
		})
	}
}
