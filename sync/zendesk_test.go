package sync_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/sync/zendesk"
	"github.com/counterdesk/counterdesk/sync/zendesk/zendeskfake"
	"github.com/counterdesk/counterdesk/ticket"
)

// Through the real Zendesk target and its fake: a customer's SMS becomes
// a Zendesk ticket; the reply an agent types in Zendesk reaches the
// customer as one SMS outbox row, its "solved" as the box's resolved, and
// neither is copied back; a restart of the engine changes nothing.
func TestZendeskReplyReachesCustomerOnce(t *testing.T) {
	fake := zendeskfake.New("owner@shop.example", "zd-secret-token-123")
	srv := httptest.NewServer(fake)
	defer srv.Close()
	dir := t.TempDir()
	d, err := ticket.Open(dir, ticket.Options{Planners: []ticket.Planner{sync.Planner([]string{"zendesk"})}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	run := func() func() {
		target, err := zendesk.New(config.SyncTarget{Type: "zendesk", Name: "zendesk", BaseURL: srv.URL,
			Email: "owner@shop.example", Token: "zd-secret-token-123", TwoWay: true}, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		e, err := sync.New(d, []sync.Named{{Name: "zendesk", Type: "zendesk", Target: target, TwoWay: true}},
			sync.Options{PollInterval: 50 * time.Millisecond, ProbeMin: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { e.Run(ctx); close(done) }()
		return func() { cancel(); <-done }
	}
	stop := run()
	r, err := d.Ingest(context.Background(), ticket.Inbound{Channel: ticket.ChannelSMS, SourceKey: "sms-1",
		From: ticket.From{Phone: "+447700900123"}, Body: "Has my Ripmax servo order 5531 shipped?"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Zendesk ticket", func() bool { return len(fake.TicketsByExternalID(r.UUID)) == 1 })
	zt := fake.TicketsByExternalID(r.UUID)[0]
	if _, err := fake.Reply(zt.ID, "Yes, it left today: tracking 1Z999AA10123456784."); err != nil {
		t.Fatal(err)
	}
	if err := fake.SetStatus(zt.ID, "solved"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reply and the status on the box", func() bool {
		tk, _ := d.Get(r.Ticket)
		return tk.Status == ticket.StatusResolved && tk.Messages == 2
	})
	stop()
	stop = run() // a restart polls again from the stored cursor
	time.Sleep(300 * time.Millisecond)
	waitFor(t, "the queue to drain", drained(d))
	stop()

	rows, _ := d.Outbox(ticket.RowPending, 100)
	var sms []ticket.OutboxRow
	for _, row := range rows {
		if row.Kind == ticket.DeliverKind(ticket.RouteSMS) {
			sms = append(sms, row)
		}
	}
	if len(sms) != 1 || !strings.Contains(string(sms[0].Payload), `"to":"+447700900123"`) || !strings.Contains(string(sms[0].Payload), "1Z999AA10123456784") {
		t.Fatalf("SMS rows = %+v", sms)
	}
	comments := fake.Comments(zt.ID)
	if len(comments) != 2 {
		t.Errorf("Zendesk ticket has %d comments, want the customer's and the agent's: %+v", len(comments), comments)
	}
	if n := len(fake.TicketsByExternalID(r.UUID)); n != 1 {
		t.Errorf("%d Zendesk tickets for one box ticket", n)
	}
	th, _ := d.Thread(r.Ticket)
	if th.Ticket.Remote["zendesk"] != strconv.FormatInt(zt.ID, 10) {
		t.Errorf("remote = %v", th.Ticket.Remote)
	}
}
