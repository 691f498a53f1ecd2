package mail

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
)

// TestSMTPDeskEndToEnd runs the sender as the consumer of a real desk: a
// Portuguese customer's mail is ingested, staff reply with a photo, the
// outbox row is delivered to the SMTP server, the message is recorded as
// sent, and the mail at the server threads to the customer's Message-ID
// and leads back to the ticket by the convention the inbound side reads.
func TestSMTPDeskEndToEnd(t *testing.T) {
	desk, err := ticket.Open(t.TempDir(), ticket.Options{Region: "PT"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { desk.Close() })
	ctx := context.Background()

	const customerID = "0102018f-a1b2c3d4-e5f6@email.example.com.br"
	res, err := desk.Ingest(ctx, ticket.Inbound{
		Channel:   ticket.ChannelEmail,
		SourceKey: customerID,
		From:      ticket.From{Name: "Joana Gonçalves", Email: "joana@example.com.br"},
		Subject:   "Hélice partida",
		Body:      "Bom dia,\nA hélice do meu avião partiu-se na aterragem.\nJoana",
		Meta:      ticket.Meta{"message_id": "<" + customerID + ">"},
	})
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	photo := []byte("\xff\xd8\xff\xe0 a small JPEG, more or less \x00\x01\x02\xff\xd9")
	const reply = "Olá Joana,\n\nA hélice nova já chegou; pode levantá-la amanhã.\n\nCumprimentos,\nKuşçu Model Uçak\n"
	msg, err := desk.Reply(ctx, ticket.Staff("mehmet"), res.Ticket, ticket.Reply{
		Body:        reply,
		Attachments: []ticket.NewAttachment{{Name: "hélice-nova.jpg", ContentType: "image/jpeg", Data: photo}},
	})
	if err != nil {
		t.Fatalf("Reply: %v", err)
	}

	srv := startSMTPTestServer(t, smtpTestServerOptions{})
	reg := health.New()
	o := smtpTestOptions(srv, desk, reg, nil, nil)
	o.Delivered = func(ctx context.Context, n, id uint64, state, detail string) error {
		return desk.SetDelivery(ctx, ticket.Actor{Kind: ticket.ActorChannel, Name: "email"}, n, id, state, detail)
	}
	s := newTestSMTPSender(t, o)

	cctx, stop := context.WithCancel(ctx)
	consumed := make(chan error, 1)
	go func() { consumed <- desk.Consume(cctx, SMTPKind, s.Deliver) }()
	smtpWaitFor(t, "the reply to be delivered", func() bool {
		n, err := desk.Pending(SMTPKind)
		return err == nil && n == 0 && len(srv.Backend.Mails()) > 0
	})
	stop()
	if err := <-consumed; err != nil {
		t.Fatalf("Consume: %v", err)
	}

	mails := srv.Backend.Mails()
	if len(mails) != 1 || mails[0].To[0] != "joana@example.com.br" {
		t.Fatalf("mails = %+v", mails)
	}
	p := parseSMTPMail(t, mails[0].Data)
	if irt, err := p.Header.MsgIDList("In-Reply-To"); err != nil || len(irt) != 1 || irt[0] != customerID {
		t.Errorf("In-Reply-To = %q (%v), want %q", irt, err, customerID)
	}
	if refs, err := p.Header.MsgIDList("References"); err != nil || len(refs) != 1 || refs[0] != customerID {
		t.Errorf("References = %q (%v)", refs, err)
	}
	id, err := p.Header.MessageID()
	if err != nil || id != SMTPMessageID(res.UUID, msg.ID, smtpTestDomain) {
		t.Errorf("Message-ID = %q (%v)", id, err)
	}
	// The inbound side finds the ticket from the UUID in the Message-ID.
	local, _, _ := strings.Cut(id, "@")
	uuid := strings.TrimPrefix(local[:strings.LastIndexByte(local, '.')], "counterdesk.")
	if n, err := desk.FindUUID(uuid); err != nil || n != res.Ticket {
		t.Errorf("FindUUID(%q) = %d, %v; want %d", uuid, n, err, res.Ticket)
	}
	if n, err := desk.FindSource(ticket.ChannelEmail, customerID); err != nil || n != res.Ticket {
		t.Errorf("FindSource = %d, %v", n, err)
	}
	subject, _ := p.Header.Subject()
	ref := "#" + strconv.FormatUint(res.Ticket, 10)
	if want := "Re: Hélice partida [" + ref + "]"; subject != want {
		t.Errorf("Subject = %q, want %q", subject, want)
	}
	if p.Text != reply || string(p.Files["hélice-nova.jpg"]) != string(photo) {
		t.Errorf("text %q, files %q", p.Text, p.Files)
	}

	th, err := desk.Thread(res.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	var state string
	for _, m := range th.Messages {
		if m.ID == msg.ID {
			state = m.Delivery
		}
	}
	if state != ticket.DeliverySent {
		t.Errorf("delivery state = %q, want sent", state)
	}
	if st := reg.Snapshot()[SMTPHealthName]; st.State != health.OK {
		t.Errorf("health = %+v", st)
	}

	// A second delivery of the same row (an ack lost in a crash) sends
	// nothing: the message is recorded as sent.
	row := smtpTestRow(t, ticket.Delivery{Ticket: res.Ticket, TicketRef: ref, MessageID: msg.ID,
		To: "joana@example.com.br", Subject: "Re: Hélice partida [" + ref + "]", Body: reply})
	if err := s.Deliver(ctx, row); err != nil {
		t.Fatalf("second Deliver: %v", err)
	}
	if n := len(srv.Backend.Mails()); n != 1 {
		t.Errorf("the server has %d mails after a second delivery, want 1", n)
	}
}

// TestSMTPDeskLoginRefusedParksNothing: while the mail server refuses the
// login, the reply's row is given back without using its attempts, so it
// is never parked while the shop fixes the password; health says why.
func TestSMTPDeskLoginRefusedParksNothing(t *testing.T) {
	desk, err := ticket.Open(t.TempDir(), ticket.Options{Region: "TR", Outbox: ticket.OutboxOptions{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { desk.Close() })
	ctx := context.Background()
	res, err := desk.Ingest(ctx, ticket.Inbound{
		Channel: ticket.ChannelEmail, SourceKey: "x1@example.com.tr",
		From:    ticket.From{Name: "Ayşe", Email: "ayse@example.com.tr"},
		Subject: "Kumanda", Body: "Kumandam bağlanmıyor.",
		Meta: ticket.Meta{"message_id": "x1@example.com.tr"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := desk.Reply(ctx, ticket.Staff("mehmet"), res.Ticket, ticket.Reply{Body: "Yarın bakalım."}); err != nil {
		t.Fatal(err)
	}

	srv := startSMTPTestServer(t, smtpTestServerOptions{})
	reg := health.New()
	o := smtpTestOptions(srv, desk, reg, nil, nil)
	o.Password = "eski-şifre-2023"
	o.Release = desk.Release
	s := newTestSMTPSender(t, o)
	start := time.Now()
	cctx, stop := context.WithCancel(ctx)
	consumed := make(chan error, 1)
	go func() { consumed <- desk.Consume(cctx, SMTPKind, s.Deliver) }()
	smtpWaitFor(t, "the login attempt", func() bool { return srv.Backend.Logins() > 0 })
	smtpWaitFor(t, "the row to be given back", func() bool {
		rows, err := desk.Outbox(ticket.RowPending, 10)
		return err == nil && len(rows) == 1 && rows[0].Lease == 0 && rows[0].NextAttempt.After(start)
	})
	stop()
	if err := <-consumed; err != nil {
		t.Fatalf("Consume: %v", err)
	}
	rows, err := desk.Outbox(ticket.RowPending, 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("pending rows = %+v, %v", rows, err)
	}
	r := rows[0]
	if r.Attempts != 0 || r.State != ticket.RowPending {
		t.Errorf("row = %+v, want pending with no attempt used", r)
	}
	if wait := r.NextAttempt.Sub(start); wait < 25*time.Second || wait > time.Minute {
		t.Errorf("row due again in %s, want about %s", wait, smtpDownWaitFirst)
	}
	if dead, _ := desk.Outbox(ticket.RowDead, 10); len(dead) != 0 {
		t.Errorf("parked rows: %+v", dead)
	}
	if st := reg.Snapshot()[SMTPHealthName]; st.State != health.Down || !strings.Contains(st.Detail, "the mail server refused the login") {
		t.Errorf("health = %+v", st)
	}
}
