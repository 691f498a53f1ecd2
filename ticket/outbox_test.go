package ticket

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// echoPlanner queues one sync row per committed change.
var echoPlanner = PlannerFunc(func(c Change) []Effect {
	return []Effect{{Kind: "sync.test", Key: fmt.Sprintf("%s:%d:%d", c.Kind, c.Ticket.Number, c.Ticket.Messages), Payload: c.Ticket.Number}}
})

func TestOutboxLifecycle(t *testing.T) {
	clk := &clock{now: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	d := openDesk(t, Options{Now: clk.Now, Planners: []Planner{echoPlanner},
		Outbox: OutboxOptions{MaxAttempts: 3, Lease: time.Minute, BackoffBase: 10 * time.Second, BackoffMax: 40 * time.Second}})
	r := mustIngest(t, d, sms("a", "+447700900123", "hi"))
	mustIngest(t, d, sms("a", "+447700900123", "hi")) // duplicate: no second row

	rows, err := d.Claim("sync.test", 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("claim = %v, %v; want 1 row", rows, err)
	}
	row := rows[0]
	if row.Ticket != r.Ticket || string(row.Payload) != fmt.Sprint(r.Ticket) {
		t.Errorf("row = %+v", row)
	}
	// Leased: nobody else gets it.
	if again, _ := d.Claim("sync.test", 10); len(again) != 0 {
		t.Fatalf("leased row claimed again: %+v", again)
	}
	// The consumer dies; after the lease the row comes back with a new lease.
	clk.Add(61 * time.Second)
	rows, _ = d.Claim("sync.test", 10)
	if len(rows) != 1 || rows[0].Lease == row.Lease {
		t.Fatalf("reclaim after lease = %+v", rows)
	}
	if err := d.Ack(row.ID, row.Lease); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("ack with the old lease = %v, want ErrLeaseLost", err)
	}
	row = rows[0]
	// Two failures back off, the third parks it.
	for attempt := 1; attempt <= 3; attempt++ {
		if err := d.Fail(row.ID, row.Lease, errors.New("503 from helpdesk")); err != nil {
			t.Fatal(err)
		}
		if attempt == 3 {
			break
		}
		if rows, _ := d.Claim("sync.test", 10); len(rows) != 0 {
			t.Fatalf("attempt %d: claimed before its backoff", attempt)
		}
		clk.Add(time.Duration(10<<(attempt-1)) * time.Second) // the full wait is enough
		rows, _ = d.Claim("sync.test", 10)
		if len(rows) != 1 {
			t.Fatalf("attempt %d: not claimable after backoff", attempt)
		}
		row = rows[0]
	}
	dead, _ := d.Outbox(RowDead, 10)
	if len(dead) != 1 || dead[0].Attempts != 3 || dead[0].LastError != "503 from helpdesk" {
		t.Fatalf("dead rows = %+v", dead)
	}
	clk.Add(time.Hour)
	if rows, _ := d.Claim("sync.test", 10); len(rows) != 0 {
		t.Fatal("a dead row was claimed")
	}
	st, _ := d.OutboxStats()
	if st.Dead != 1 || st.Pending != 0 {
		t.Errorf("stats = %+v", st)
	}
	th, _ := d.Thread(r.Ticket)
	if e := th.Events[len(th.Events)-1]; e.Action != "outbox" || e.After != RowDead {
		t.Errorf("parking not audited: %+v", e)
	}
	if err := d.Retry(Staff("admin"), dead[0].ID); err != nil {
		t.Fatal(err)
	}
	rows, _ = d.Claim("sync.test", 10)
	if len(rows) != 1 || rows[0].Attempts != 0 {
		t.Fatalf("retried row = %+v", rows)
	}
	if err := d.Ack(rows[0].ID, rows[0].Lease); err != nil {
		t.Fatal(err)
	}
	if st, _ := d.OutboxStats(); st.Pending != 0 || st.Dead != 0 {
		t.Errorf("stats after ack = %+v", st)
	}
}

func TestOutboxPermanentErrorParksAtOnce(t *testing.T) {
	d := openDesk(t, Options{Planners: []Planner{echoPlanner}})
	mustIngest(t, d, sms("a", "+447700900123", "hi"))
	rows, _ := d.Claim("sync.test", 1)
	if err := d.Fail(rows[0].ID, rows[0].Lease, Permanent(errors.New("422 invalid requester"))); err != nil {
		t.Fatal(err)
	}
	if dead, _ := d.Outbox(RowDead, 10); len(dead) != 1 || dead[0].Attempts != 1 {
		t.Errorf("dead = %+v", dead)
	}
}

func TestOutboxFullRefusesChange(t *testing.T) {
	d := openDesk(t, Options{Planners: []Planner{echoPlanner}, Outbox: OutboxOptions{MaxPending: 2}})
	mustIngest(t, d, sms("a", "+447700900123", "1"))
	mustIngest(t, d, sms("b", "+447700900123", "2"))
	before := dbDigest(t, d)
	_, err := d.Ingest(context.Background(), sms("c", "+447700900123", "3"))
	if !errors.Is(err, ErrOutboxFull) {
		t.Fatalf("err = %v, want ErrOutboxFull", err)
	}
	if dbDigest(t, d) != before {
		t.Error("a refused change wrote something")
	}
}

func TestConsumeDeliversRetriesAndStops(t *testing.T) {
	d := openDesk(t, Options{Planners: []Planner{echoPlanner}, Outbox: OutboxOptions{BackoffBase: time.Millisecond, BackoffMax: 2 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	delivered := make(chan uint64, 10)
	fails := 0
	done := make(chan error)
	go func() {
		done <- d.Consume(ctx, "sync.test", func(ctx context.Context, r OutboxRow) error {
			if fails < 2 {
				fails++
				return errors.New("network down")
			}
			delivered <- r.Ticket
			return nil
		})
	}()
	r := mustIngest(t, d, sms("a", "+447700900123", "hi"))
	select {
	case n := <-delivered:
		if n != r.Ticket {
			t.Errorf("delivered ticket %d", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("row not delivered")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Consume = %v", err)
	}
	if st, _ := d.OutboxStats(); st.Pending != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestBackupRestore(t *testing.T) {
	d := openDesk(t, Options{})
	r := mustIngest(t, d, Inbound{Channel: ChannelVoicemail, SourceKey: "c1", From: From{Phone: "+447700900123"},
		Attachments: []NewAttachment{{Name: "vm.wav", Data: []byte("voice")}}})
	bdir := filepath.Join(t.TempDir(), "backup")
	m, err := d.Backup(bdir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Tickets != 1 || m.Attachments != 1 {
		t.Errorf("manifest = %+v", m)
	}
	mustIngest(t, d, sms("later", "+447700900999", "after the backup"))

	// Restoring into the running desk's folder is refused.
	if _, err := Restore(bdir, d.Dir()); err == nil {
		t.Error("restore into a folder in use succeeded")
	}
	target := t.TempDir()
	if _, err := Restore(bdir, target); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(target, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	th, err := d2.Thread(r.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if _, path, err := d2.Attachment(th.Messages[0].Attachments[0].ID); err != nil || string(readFile(t, path)) != "voice" {
		t.Errorf("restored attachment: %v", err)
	}
	if n, _ := d2.Count(); n != 1 {
		t.Errorf("restored %d tickets, want 1", n)
	}
	if _, err := Restore(t.TempDir(), t.TempDir()); err == nil {
		t.Error("restore from an empty folder succeeded")
	}
}

func TestReleaseCountsNoAttempt(t *testing.T) {
	clk := &clock{now: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	d := openDesk(t, Options{Now: clk.Now, Planners: []Planner{echoPlanner},
		Outbox: OutboxOptions{MaxAttempts: 1, Lease: time.Minute}})
	mustIngest(t, d, sms("a", "+447700900123", "hi"))
	if n, err := d.Pending("sync.test"); err != nil || n != 1 {
		t.Fatalf("Pending = %d, %v; want 1", n, err)
	}
	for range 5 { // more releases than attempts: the row is never parked
		rows, err := d.Claim("sync.test", 10)
		if err != nil || len(rows) != 1 {
			t.Fatalf("claim = %v, %v", rows, err)
		}
		if err := d.Release(rows[0].ID, rows[0].Lease, clk.Now().Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if again, _ := d.Claim("sync.test", 10); len(again) != 0 {
			t.Fatalf("released row claimed before its time: %+v", again)
		}
		clk.Add(30 * time.Second)
	}
	rows, _ := d.Claim("sync.test", 10)
	if len(rows) != 1 || rows[0].Attempts != 0 || rows[0].State != RowPending {
		t.Fatalf("after releases: %+v", rows)
	}
	if err := d.Release(rows[0].ID, rows[0].Lease+1, clk.Now()); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("release with another lease = %v, want ErrLeaseLost", err)
	}
	if n, _ := d.Pending("sync.other"); n != 0 {
		t.Errorf("Pending of another kind = %d", n)
	}
}

func TestWaitDueWakesOnCommit(t *testing.T) {
	d := openDesk(t, Options{Planners: []Planner{echoPlanner}})
	done := make(chan error, 1)
	go func() { done <- d.WaitDue(context.Background(), "sync.test") }()
	time.Sleep(20 * time.Millisecond)
	mustIngest(t, d, sms("a", "+447700900123", "hi"))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitDue did not wake on a commit that queued a row")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.WaitDue(ctx, "sync.none"); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitDue with a cancelled context = %v", err)
	}
}

// A row claimed by a process that died is due again as soon as the store
// is opened again, not when its lease would have run out.
func TestOpenReleasesLeasesOfTheLastProcess(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir, Options{Planners: []Planner{echoPlanner}})
	if err != nil {
		t.Fatal(err)
	}
	mustIngest(t, d, sms("a", "+447700900123", "hi"))
	mustIngest(t, d, sms("b", "+447700900124", "hello"))
	rows, err := d.Claim("sync.test", 1)
	if err != nil || len(rows) != 1 {
		t.Fatalf("claim = %v, %v", rows, err)
	}
	d.Close()
	d, err = Open(dir, Options{Planners: []Planner{echoPlanner}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	again, err := d.Claim("sync.test", 10)
	if err != nil || len(again) != 2 || again[0].ID != rows[0].ID || again[0].Attempts != 0 {
		t.Fatalf("claim after reopening = %+v, %v; want both rows, the claimed one first", again, err)
	}
}
