package freshdesk

import (
	"testing"

	"github.com/counterdesk/counterdesk/ticket"
)

// BenchmarkCreateFind creates b.N tickets in the fake account and finds
// each again by the box's id, as the engine does after a crash.
func BenchmarkCreateFind(b *testing.B) {
	e := newEnv(b)
	for b.Loop() {
		tk := boxTicket()
		id, err := e.t.Create(ctx(), tk, message(1, ticket.Incoming, "hello"))
		if err != nil {
			b.Fatal(err)
		}
		if got, err := e.t.Find(ctx(), tk); err != nil || got != id {
			b.Fatalf("Find = %q, %v", got, err)
		}
	}
}
