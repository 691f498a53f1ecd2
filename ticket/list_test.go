package ticket

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestFoldAndTokens(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ação", "acao"},
		{"IŞIK ışık", "isik isik"},
		{"İstanbul", "istanbul"},
		{"Straße", "strasse"},
		{"Müller ÉCOLE", "muller ecole"},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	got := Tokens("Order #55123: the ESC (esc) is hot! a 2 +44 7700")
	want := []string{"order", "55123", "the", "esc", "is", "hot", "2", "44", "7700"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Tokens = %v, want %v", got, want)
	}
}

func TestSearchFoldsAccentsAndTurkishI(t *testing.T) {
	d := openDesk(t, Options{})
	a := mustIngest(t, d, Inbound{Channel: ChannelWebForm, SourceKey: "1", From: From{Name: "João", Email: "j@example.pt"}, Subject: "Ação rápida", Body: "bateria inchada"})
	b := mustIngest(t, d, Inbound{Channel: ChannelWebForm, SourceKey: "2", From: From{Name: "Ayşe", Email: "a@example.tr"}, Body: "IŞIK yanmıyor, pervane kırık"})
	mustIngest(t, d, Inbound{Channel: ChannelWebForm, SourceKey: "3", From: From{Email: "c@example.com"}, Body: "escape key"})
	tests := []struct {
		q    string
		want []uint64
	}{
		{"acao", []uint64{a.Ticket}},
		{"AÇÃO RAPIDA", []uint64{a.Ticket}},
		{"joao", []uint64{a.Ticket}},
		{"isik", []uint64{b.Ticket}},
		{"ışık kirik", []uint64{b.Ticket}},
		{"esc", nil},
		{"bateria escape", nil},
		{"example", []uint64{mustTicket(d, 3), b.Ticket, a.Ticket}},
	}
	for _, tt := range tests {
		p, err := d.List(Filter{Query: tt.q})
		if err != nil {
			t.Fatalf("%q: %v", tt.q, err)
		}
		var got []uint64
		for _, tk := range p.Tickets {
			got = append(got, tk.Number)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("search %q = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func mustTicket(d *Desk, i int) uint64 { return uint64(FirstNumber + i - 1) }

func TestListPaginationAndFilters(t *testing.T) {
	clk := &clock{now: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	d := openDesk(t, Options{Now: clk.Now})
	ctx := context.Background()
	const n = 130
	for i := range n {
		clk.Add(time.Second)
		in := sms(fmt.Sprint(i), fmt.Sprintf("+4477009%05d", i), fmt.Sprintf("prop number %d", i))
		if i%2 == 0 {
			in.Channel = ChannelWebForm
		}
		mustIngest(t, d, in)
	}
	for i := 0; i < n; i += 10 {
		clk.Add(time.Second)
		if _, err := d.Tag(ctx, Staff("ana"), FirstNumber+uint64(i), []string{"tens"}, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	count := func(f Filter) (int, map[uint64]int) {
		seen := map[uint64]int{}
		total := 0
		f.Limit = 7
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("pagination does not end")
			}
			p, err := d.List(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range p.Tickets {
				seen[tk.Number]++
				total++
			}
			if p.Next == "" {
				return total, seen
			}
			f.Cursor = p.Next
		}
	}
	tests := []struct {
		name string
		f    Filter
		want int
	}{
		{"all", Filter{}, n},
		{"status new", Filter{Status: StatusNew}, n},
		{"sms", Filter{Channel: ChannelSMS}, n / 2},
		{"web form tagged", Filter{Channel: ChannelWebForm, Tag: "TENS"}, 13},
		{"unassigned", Filter{Unassigned: true}, n},
		{"assigned", Filter{Assignee: "ana"}, 0},
		{"search", Filter{Query: "prop"}, n},
		{"search and channel", Filter{Query: "number prop", Channel: ChannelSMS}, n / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total, seen := count(tt.f)
			if total != tt.want || len(seen) != tt.want {
				t.Errorf("listed %d (%d distinct), want %d", total, len(seen), tt.want)
			}
		})
	}
	// Newest change first: the tagged tickets were touched last.
	p, _ := d.List(Filter{Limit: 1})
	if p.Tickets[0].Number != FirstNumber+n-10 {
		t.Errorf("first listed = #%d, want #%d", p.Tickets[0].Number, FirstNumber+n-10)
	}
	if _, err := d.List(Filter{Cursor: "!!"}); err == nil {
		t.Error("bad cursor accepted")
	}
	if _, err := d.List(Filter{Query: "!!"}); err == nil {
		t.Error("query without words accepted")
	}
}
