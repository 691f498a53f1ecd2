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

// TestSearchAcrossBothWordIndexParts checks search while some postings are
// merged into the main index and others are still recent, including a
// ticket whose words are split between the two.
func TestSearchAcrossBothWordIndexParts(t *testing.T) {
	d := openDesk(t, Options{})
	ctx := context.Background()
	var nums []uint64
	for i := range 40 {
		r := mustIngest(t, d, Inbound{Channel: ChannelWebForm, SourceKey: fmt.Sprint(i), From: From{Email: fmt.Sprintf("p%d@example.com", i)}, Body: fmt.Sprintf("servo jitter case %d", i)})
		nums = append(nums, r.Ticket)
		if i == 24 {
			if _, err := d.mergeRecent(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// An old, merged ticket gets a new word in a note.
	if _, err := d.AddNote(ctx, Staff("ana"), nums[3], "the gear is stripped"); err != nil {
		t.Fatal(err)
	}
	search := func(q string, limit int) []uint64 {
		var got []uint64
		f := Filter{Query: q, Limit: limit}
		for {
			p, err := d.List(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range p.Tickets {
				got = append(got, tk.Number)
			}
			if p.Next == "" {
				return got
			}
			f.Cursor = p.Next
		}
	}
	for _, limit := range []int{1, 7, 50} {
		got := search("servo jitter", limit)
		if len(got) != 40 || got[0] != nums[39] || got[39] != nums[0] {
			t.Fatalf("limit %d: servo jitter found %d tickets: %v", limit, len(got), got)
		}
		for i := 1; i < len(got); i++ {
			if got[i] >= got[i-1] {
				t.Fatalf("limit %d: results not in descending order: %v", limit, got)
			}
		}
	}
	if got := search("servo stripped", 10); fmt.Sprint(got) != fmt.Sprint([]uint64{nums[3]}) {
		t.Errorf("word split across the parts: got %v, want [%d]", got, nums[3])
	}
	if moved, err := d.mergeRecent(); err != nil || moved == 0 {
		t.Fatalf("second merge moved %d: %v", moved, err)
	}
	if got := search("servo stripped", 10); fmt.Sprint(got) != fmt.Sprint([]uint64{nums[3]}) {
		t.Errorf("after the merge: got %v, want [%d]", got, nums[3])
	}
	if got := search("case 17", 10); fmt.Sprint(got) != fmt.Sprint([]uint64{nums[17]}) {
		t.Errorf("case 17: got %v", got)
	}
}

func TestListByCategoryAndTeam(t *testing.T) {
	d := openDesk(t, Options{Triager: fixedTriage{}})
	mustIngest(t, d, sms("a", "+447700900123", "battery"))
	mustIngest(t, d, Inbound{Channel: ChannelEmail, SourceKey: "b", From: From{Email: "b@example.com"}, Body: "x", NewTicket: true})
	p, err := d.List(Filter{Category: "troubleshooting"})
	if err != nil || len(p.Tickets) != 2 {
		t.Fatalf("category filter = %d tickets, %v", len(p.Tickets), err)
	}
	if p, _ := d.List(Filter{Category: "warranty"}); len(p.Tickets) != 0 {
		t.Errorf("warranty = %d tickets", len(p.Tickets))
	}
	if p, _ := d.List(Filter{Team: "workshop"}); len(p.Tickets) != 0 {
		t.Errorf("team workshop = %d tickets", len(p.Tickets))
	}
}
