package modem

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	stdsync "sync"
	"time"

	"github.com/counterdesk/counterdesk/modem/pdu"
	"github.com/counterdesk/counterdesk/ticket"
	bolt "go.etcd.io/bbolt"
)

// Outbox is what the sender needs of the desk: ticket.Desk provides it.
type Outbox interface {
	Consume(ctx context.Context, kind string, h ticket.Handler) error
	SetDelivery(ctx context.Context, actor ticket.Actor, n, id uint64, state, detail string) error
}

// KindSMS is the outbox kind the modem sends.
var KindSMS = ticket.DeliverKind(ticket.RouteSMS)

// Sender sends the desk's SMS (outbox rows of kind deliver.sms) through the
// modem. An attempt is written down before each part goes to the modem, so
// that after a crash a part is never sent twice: a part whose attempt has
// no outcome is reported to the staff instead of being sent again.
type Sender struct {
	Desk Outbox
	DB   *bolt.DB
	// PerMinute bounds the parts sent in a minute.
	PerMinute int
	// StatusReports asks the network for delivery reports.
	StatusReports bool
	// NationalLanguages may be used for 7-bit text beyond the default
	// alphabet (see pdu.SubmitOptions).
	NationalLanguages []pdu.Language

	mu   stdsync.Mutex
	sent []time.Time // send times within the last minute
}

var (
	bAttempts = []byte("sms_attempts") // row id, part -> attempt
	bRefs     = []byte("sms_refs")     // recipient 0 message reference -> ticket, message
)

// attempt is what is known of sending one part.
type attempt struct {
	State     string    `json:"state"` // "sending", then "sent"
	Reference int       `json:"reference,omitempty"`
	At        time.Time `json:"at"`
}

// modemActor is who records delivery states.
var modemActor = ticket.Actor{Kind: ticket.ActorChannel, Name: "sms"}

// Run sends rows until ctx ends, through engine e.
func (s *Sender) Run(ctx context.Context, e *Engine) error {
	return s.Desk.Consume(ctx, KindSMS, func(ctx context.Context, row ticket.OutboxRow) error {
		return s.send(ctx, e, row)
	})
}

func (s *Sender) send(ctx context.Context, e *Engine, row ticket.OutboxRow) error {
	var d ticket.Delivery
	if err := json.Unmarshal(row.Payload, &d); err != nil {
		return ticket.Permanent(fmt.Errorf("outbox row %d: %w", row.ID, err))
	}
	if err := checkRecipient(d.To); err != nil {
		s.failed(ctx, d, err.Error())
		return ticket.Permanent(err)
	}
	parts, err := pdu.EncodeSubmit(d.To, d.Body, pdu.SubmitOptions{
		ConcatRef:         uint16(row.ID % 256),
		StatusReport:      s.StatusReports,
		Class:             -1,
		NationalLanguages: s.NationalLanguages,
	})
	if err != nil {
		s.failed(ctx, d, err.Error())
		return ticket.Permanent(fmt.Errorf("encode SMS to %s: %w", d.To, err))
	}
	for i, p := range parts {
		key := attemptKey(row.ID, i)
		prev, err := s.attempt(key)
		if err != nil {
			return err
		}
		switch {
		case prev.State == "sent":
			continue // sent before a crash or a failed ack
		case prev.State == "sending":
			detail := fmt.Sprintf("part %d of %d may or may not have gone out before the modem stopped answering; it was not sent again: check with the customer", i+1, len(parts))
			s.failed(ctx, d, detail)
			return ticket.Permanent(errors.New(detail))
		}
		if err := s.wait(ctx); err != nil {
			return err
		}
		if err := s.record(key, attempt{State: "sending", At: time.Now().UTC()}); err != nil {
			return err
		}
		mr, err := e.SendPDU(ctx, pdu.TPDULength(p), strings.ToUpper(fmt.Sprintf("%X", p)), 0)
		if err != nil {
			var cms *CMSError
			if errors.As(err, &cms) {
				// The modem refused the part: it did not go out, so it
				// may be tried again.
				if derr := s.forget(key); derr != nil {
					return derr
				}
				if cms.Code >= 300 && cms.Code < 500 && cms.Code != 331 && cms.Code != 332 {
					s.failed(ctx, d, err.Error())
					return ticket.Permanent(err)
				}
			}
			return err // an unclear outcome stays "sending" and is reported on retry
		}
		if err := s.record(key, attempt{State: "sent", Reference: mr, At: time.Now().UTC()}); err != nil {
			return err
		}
		if err := s.remember(d, mr); err != nil {
			return err
		}
	}
	if d.MessageID == 0 {
		return nil // a page to staff
	}
	return s.Desk.SetDelivery(ctx, modemActor, d.Ticket, d.MessageID, ticket.DeliverySent, fmt.Sprintf("%d part(s) to %s", len(parts), d.To))
}

// checkRecipient refuses numbers that cannot receive an SMS: alphanumeric
// senders and short codes.
func checkRecipient(to string) error {
	digits := strings.TrimPrefix(to, "+")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return fmt.Errorf("%q is not a phone number that can receive an SMS", to)
	}
	if len(digits) < 7 {
		return fmt.Errorf("%q is a short code; it cannot receive an SMS", to)
	}
	return nil
}

func (s *Sender) failed(ctx context.Context, d ticket.Delivery, detail string) {
	if d.MessageID == 0 {
		return // a page to staff: no message of the thread to mark
	}
	_ = s.Desk.SetDelivery(ctx, modemActor, d.Ticket, d.MessageID, ticket.DeliveryFailed, detail)
}

func attemptKey(row uint64, part int) []byte {
	k := make([]byte, 10)
	binary.BigEndian.PutUint64(k, row)
	binary.BigEndian.PutUint16(k[8:], uint16(part))
	return k
}

func (s *Sender) attempt(key []byte) (attempt, error) {
	var a attempt
	err := s.DB.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bAttempts)
		if b == nil {
			return nil
		}
		if v := b.Get(key); v != nil {
			return json.Unmarshal(v, &a)
		}
		return nil
	})
	return a, err
}

// record writes an attempt and fsyncs it before the part goes out.
func (s *Sender) record(key []byte, a attempt) error {
	return s.DB.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bAttempts)
		if err != nil {
			return err
		}
		data, err := json.Marshal(a)
		if err != nil {
			return err
		}
		return b.Put(key, data)
	})
}

func (s *Sender) forget(key []byte) error {
	return s.DB.Update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bAttempts); b != nil {
			return b.Delete(key)
		}
		return nil
	})
}

// remember maps a message reference to its ticket message, for the status
// report that may follow.
func (s *Sender) remember(d ticket.Delivery, mr int) error {
	if d.MessageID == 0 {
		return nil // a page to staff: its status report updates nothing
	}
	return s.DB.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bRefs)
		if err != nil {
			return err
		}
		v := make([]byte, 16)
		binary.BigEndian.PutUint64(v, d.Ticket)
		binary.BigEndian.PutUint64(v[8:], d.MessageID)
		return b.Put(refKey(d.To, mr), v)
	})
}

func refKey(to string, mr int) []byte { return []byte(fmt.Sprintf("%s\x00%03d", to, mr%256)) }

// wait blocks until sending one more part keeps within PerMinute.
func (s *Sender) wait(ctx context.Context) error {
	limit := s.PerMinute
	if limit <= 0 {
		limit = 6
	}
	for {
		s.mu.Lock()
		now := time.Now()
		kept := s.sent[:0]
		for _, t := range s.sent {
			if now.Sub(t) < time.Minute {
				kept = append(kept, t)
			}
		}
		s.sent = kept
		if len(s.sent) < limit {
			s.sent = append(s.sent, now)
			s.mu.Unlock()
			return nil
		}
		next := s.sent[0].Add(time.Minute).Sub(now)
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(next):
		}
	}
}

// StatusReport records what the network said of a message the desk sent
// (3GPP TS 23.040 clause 9.2.3.15: 0x00-0x1F delivered, 0x20-0x3F still
// trying, 0x40 and up failed).
func (s *Sender) StatusReport(ctx context.Context, m *pdu.Message) error {
	var n, id uint64
	err := s.DB.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bRefs)
		if b == nil {
			return nil
		}
		if v := b.Get(refKey(m.Address, int(m.Reference))); len(v) == 16 {
			n, id = binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])
		}
		return nil
	})
	if err != nil || n == 0 {
		return err
	}
	switch {
	case m.Status < 0x20:
		return s.Desk.SetDelivery(ctx, modemActor, n, id, ticket.DeliveryDelivered, "the network reports it delivered")
	case m.Status >= 0x40:
		return s.Desk.SetDelivery(ctx, modemActor, n, id, ticket.DeliveryFailed, fmt.Sprintf("the network gave up (status 0x%02X)", m.Status))
	}
	return nil
}
