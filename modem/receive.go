package modem

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/modem/pdu"
	"github.com/counterdesk/counterdesk/ticket"
	bolt "go.etcd.io/bbolt"
)

// Ingester is what the modem needs of the desk: ticket.Desk provides it.
type Ingester interface {
	Ingest(ctx context.Context, in ticket.Inbound) (ticket.Result, error)
	SetSMSOptOut(ctx context.Context, actor ticket.Actor, n uint64, out bool) error
}

// Receiver turns stored SMS into tickets. A message is deleted from the
// modem only after the desk committed it (or, for a part of a longer
// message, after the part is on disk here), so a crash at any moment
// loses nothing and, since the source key is the sender, the service
// centre's time stamp, the reference and the part, duplicates nothing.
type Receiver struct {
	Desk Ingester
	// DB keeps the parts of concatenated messages until all have come.
	DB *bolt.DB
	// PartsMaxAge is how long to wait for missing parts before the
	// message becomes a ticket with what arrived, flagged incomplete.
	PartsMaxAge time.Duration
	// Reports takes the status reports of messages the desk sent.
	Reports func(ctx context.Context, m *pdu.Message) error
	Log     *slog.Logger
	Now     func() time.Time
}

// DefaultPartsMaxAge is how long a concatenated message may wait for its
// missing parts.
const DefaultPartsMaxAge = 24 * time.Hour

var (
	bParts = []byte("sms_parts")
	// bPartsDone remembers, per group, the parts of long messages already
	// stored as tickets: a part left on the SIM by a crash between the
	// commit and the delete is recognised and deleted, not stored again.
	bPartsDone = []byte("sms_parts_done")
)

// doneGroup is what bPartsDone keeps of a stored long message.
type doneGroup struct {
	At time.Time `json:"at"`
	// PDUs holds the SHA-256 of each stored part's PDU, so that a new
	// message reusing the sender's reference is never mistaken for it.
	PDUs []string `json:"pdus"`
}

func pduHash(pduHex string) string {
	sum := sha256.Sum256([]byte(strings.ToUpper(strings.TrimSpace(pduHex))))
	return hex.EncodeToString(sum[:])
}

// part is one stored part of a concatenated message.
type part struct {
	PDU      string    `json:"pdu"`
	Received time.Time `json:"received"`
}

func (r *Receiver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Receiver) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}

// ReceiveAll reads every message stored on the modem (AT+CMGL=4), hands
// each to the desk and deletes it from the modem (AT+CMGD) once it is safe.
// It returns how many messages it deleted.
func (r *Receiver) ReceiveAll(ctx context.Context, e *Engine) (int, error) {
	lines, err := e.Command(ctx, "AT+CMGL=4", 30*time.Second)
	if err != nil {
		return 0, fmt.Errorf("list messages: %w", err)
	}
	stored, err := ParseCMGL(lines)
	if err != nil {
		return 0, fmt.Errorf("list messages: %w", err)
	}
	done := 0
	for _, s := range stored {
		if err := r.Receive(ctx, s.PDU); err != nil {
			r.log().Error("message kept on the modem: the desk did not take it", "index", s.Index, "err", err)
			continue
		}
		if _, err := e.Command(ctx, "AT+CMGD="+strconv.Itoa(s.Index), 0); err != nil {
			return done, fmt.Errorf("delete message %d: %w", s.Index, err)
		}
		done++
	}
	if err := r.FlushStale(ctx); err != nil {
		return done, err
	}
	return done, nil
}

// Receive hands one PDU (hex, with the SMSC address) to the desk. It
// returns nil once the message is safe: committed as a ticket, stored as
// a part, or (a status report) not for a ticket.
func (r *Receiver) Receive(ctx context.Context, pduHex string) error {
	m, err := pdu.DecodeHex(pduHex)
	if err != nil {
		return r.ingestRaw(ctx, pduHex, err)
	}
	switch m.Type {
	case pdu.Deliver:
	case pdu.StatusReport:
		if r.Reports != nil {
			return r.Reports(ctx, m)
		}
		return nil
	default:
		r.log().Info("stored message is not one received; left to the sending side", "type", m.Type.String())
		return nil
	}
	if m.Concat == nil || m.Concat.Total <= 1 {
		return r.ingest(ctx, r.inbound(m, []*pdu.Message{m}, nil))
	}
	return r.addPart(ctx, pduHex, m)
}

// ingest stores a message and honours the opt-out keywords: a message
// that is only STOP (or START) keeps SMS from (or gives it back to) its
// sender, audited on the ticket it landed on.
func (r *Receiver) ingest(ctx context.Context, in ticket.Inbound) error {
	res, err := r.Desk.Ingest(ctx, in)
	if err != nil {
		return err
	}
	switch strings.ToUpper(strings.Trim(in.Body, " \t\r\n.!")) {
	case "STOP", "STOPALL", "UNSUBSCRIBE", "PARAR", "DUR":
		return r.Desk.SetSMSOptOut(ctx, ticket.Actor{Kind: ticket.ActorChannel, Name: "sms"}, res.Ticket, true)
	case "START", "UNSTOP", "INICIAR", "BASLA", "BAŞLA":
		return r.Desk.SetSMSOptOut(ctx, ticket.Actor{Kind: ticket.ActorChannel, Name: "sms"}, res.Ticket, false)
	}
	return nil
}

// inbound builds the request for a whole message, or for the parts of one
// that arrived (flags say what is missing).
func (r *Receiver) inbound(first *pdu.Message, parts []*pdu.Message, flags []string) ticket.Inbound {
	in := ticket.Inbound{
		Channel:   ticket.ChannelSMS,
		SourceKey: sourceKey(first),
		At:        first.Timestamp,
		Body:      joinText(parts),
		Flags:     flags,
		Meta:      ticket.Meta{},
	}
	if first.Alphanumeric {
		in.From.Name = first.Address
		in.Meta["sender"] = "alphanumeric"
	} else {
		in.From.Phone = first.Address
	}
	if first.SMSC != "" {
		in.Meta["smsc"] = first.SMSC
	}
	if first.Encoding == pdu.Eightbit {
		in.Flags = append(in.Flags, "binary")
		in.Body = fmt.Sprintf("(binary message of %d bytes)", len(first.Data))
	}
	if strings.TrimSpace(in.Body) == "" {
		in.Body = "(empty message)"
	}
	if in.At.Year() < 2000 {
		in.At = time.Time{} // a modem with no network time
	}
	return in
}

// sourceKey names a message by what the network gave it: sender, service
// centre time stamp, reference and part count.
func sourceKey(m *pdu.Message) string {
	k := m.Address + "|" + m.Timestamp.Format(time.RFC3339)
	if m.Concat != nil {
		k += fmt.Sprintf("|%d|%d", m.Concat.Ref, m.Concat.Total)
	}
	return k
}

// joinText joins the parts' user data before decoding, so that an escape
// or a surrogate pair split between parts comes out whole.
func joinText(parts []*pdu.Message) string {
	if len(parts) == 0 {
		return ""
	}
	var data []byte
	for _, p := range parts {
		data = append(data, p.Data...)
	}
	switch parts[0].Encoding {
	case pdu.GSM7:
		// Every part of a message carries the same shift tables.
		return pdu.DecodeGSM7Shift(data, parts[0].Shift)
	case pdu.UCS2:
		if s, err := pdu.DecodeUCS2(data); err == nil {
			return s
		}
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

// ingestRaw keeps an undecodable PDU on a ticket, flagged, rather than
// dropping it.
func (r *Receiver) ingestRaw(ctx context.Context, pduHex string, cause error) error {
	sum := sha256.Sum256([]byte(pduHex))
	raw := strings.TrimSpace(pduHex)
	if len(raw) > 1000 {
		raw = raw[:1000]
	}
	_, err := r.Desk.Ingest(ctx, ticket.Inbound{
		Channel:   ticket.ChannelSMS,
		SourceKey: "raw|" + hex.EncodeToString(sum[:12]),
		Body:      "An SMS arrived that could not be decoded: " + cause.Error(),
		Flags:     []string{"undecodable", "raw"},
		Meta:      ticket.Meta{"pdu": raw},
	})
	return err
}

func partKey(m *pdu.Message) []byte {
	return []byte(fmt.Sprintf("%s\x00%05d\x00%03d\x00%03d", m.Address, m.Concat.Ref, m.Concat.Total, m.Concat.Seq))
}

func groupPrefix(m *pdu.Message) []byte {
	return []byte(fmt.Sprintf("%s\x00%05d\x00%03d\x00", m.Address, m.Concat.Ref, m.Concat.Total))
}

// addPart stores a part (fsynced) and, when the last one came, hands the
// whole message to the desk and forgets the parts.
func (r *Receiver) addPart(ctx context.Context, pduHex string, m *pdu.Message) error {
	if r.DB == nil {
		return errors.New("modem: no store for message parts")
	}
	stored := false
	err := r.DB.Update(func(tx *bolt.Tx) error {
		if done := tx.Bucket(bPartsDone); done != nil {
			var g doneGroup
			if v := done.Get(groupPrefix(m)); v != nil && json.Unmarshal(v, &g) == nil && slices.Contains(g.PDUs, pduHash(pduHex)) {
				stored = true
				return nil
			}
		}
		b, err := tx.CreateBucketIfNotExists(bParts)
		if err != nil {
			return err
		}
		data, err := json.Marshal(part{PDU: pduHex, Received: r.now().UTC()})
		if err != nil {
			return err
		}
		return b.Put(partKey(m), data)
	})
	if err != nil {
		return fmt.Errorf("store message part: %w", err)
	}
	if stored {
		r.log().Info("part of a long message already stored; deleted from the SIM again", "sender", m.Address, "part", m.Concat.Seq, "of", m.Concat.Total)
		return nil
	}
	parts, err := r.group(groupPrefix(m))
	if err != nil {
		return err
	}
	if len(parts) < int(m.Concat.Total) {
		return nil
	}
	return r.complete(ctx, parts, nil)
}

type storedPart struct {
	key []byte
	msg *pdu.Message
	at  time.Time
	pdu string
}

// group returns the stored parts with prefix, in part order.
func (r *Receiver) group(prefix []byte) ([]storedPart, error) {
	var out []storedPart
	err := r.DB.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bParts)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, v = c.Next() {
			var p part
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			m, err := pdu.DecodeHex(p.PDU)
			if err != nil {
				return err
			}
			out = append(out, storedPart{key: append([]byte(nil), k...), msg: m, at: p.Received, pdu: p.PDU})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].msg.Concat.Seq < out[j].msg.Concat.Seq })
	return out, err
}

// complete hands the parts to the desk as one message, then deletes them.
func (r *Receiver) complete(ctx context.Context, parts []storedPart, flags []string) error {
	msgs := make([]*pdu.Message, len(parts))
	for i, p := range parts {
		msgs[i] = p.msg
	}
	if err := r.ingest(ctx, r.inbound(msgs[0], msgs, flags)); err != nil {
		return err
	}
	return r.DB.Update(func(tx *bolt.Tx) error {
		done, err := tx.CreateBucketIfNotExists(bPartsDone)
		if err != nil {
			return err
		}
		prefix := groupPrefix(msgs[0])
		var g doneGroup
		if v := done.Get(prefix); v != nil {
			json.Unmarshal(v, &g)
		}
		g.At = r.now().UTC()
		b := tx.Bucket(bParts)
		for _, p := range parts {
			if err := b.Delete(p.key); err != nil {
				return err
			}
			g.PDUs = append(g.PDUs, pduHash(p.pdu))
		}
		// A sender reuses references; only the latest parts matter.
		if len(g.PDUs) > 2*maxParts {
			g.PDUs = g.PDUs[len(g.PDUs)-2*maxParts:]
		}
		v, err := json.Marshal(g)
		if err != nil {
			return err
		}
		return done.Put(prefix, v)
	})
}

// maxParts is the most parts a concatenated message can have.
const maxParts = 255

// FlushStale turns messages whose missing parts never came into tickets
// with what arrived, flagged incomplete.
func (r *Receiver) FlushStale(ctx context.Context) error {
	if r.DB == nil {
		return nil
	}
	maxAge := r.PartsMaxAge
	if maxAge <= 0 {
		maxAge = DefaultPartsMaxAge
	}
	groups := map[string]bool{}
	err := r.DB.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bParts)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			if i := strings.LastIndexByte(string(k), 0); i > 0 {
				groups[string(k[:i+1])] = true
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	if err := r.pruneDone(2 * maxAge); err != nil {
		return err
	}
	for prefix := range groups {
		parts, err := r.group([]byte(prefix))
		if err != nil || len(parts) == 0 {
			return err
		}
		oldest := parts[0].at
		for _, p := range parts {
			if p.at.Before(oldest) {
				oldest = p.at
			}
		}
		if r.now().Sub(oldest) < maxAge {
			continue
		}
		r.log().Warn("message parts missing; ticket made from what arrived", "sender", parts[0].msg.Address, "parts", len(parts), "of", parts[0].msg.Concat.Total)
		if err := r.complete(ctx, parts, []string{"incomplete"}); err != nil {
			return err
		}
	}
	return nil
}

// pruneDone forgets stored long messages older than keep: a part of one
// still on the SIM after that long is long past any crash.
func (r *Receiver) pruneDone(keep time.Duration) error {
	return r.DB.Update(func(tx *bolt.Tx) error {
		done := tx.Bucket(bPartsDone)
		if done == nil {
			return nil
		}
		var old [][]byte
		err := done.ForEach(func(k, v []byte) error {
			var g doneGroup
			if json.Unmarshal(v, &g) != nil || r.now().Sub(g.At) > keep {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := done.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
