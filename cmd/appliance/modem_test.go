package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/modem/pdu"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/creack/pty"
)

// TestApplianceSMS runs the appliance binary as the shop runs it, with
// its modem device set to the slave side of a pseudo-terminal, and a GSM
// modem faked on the master side. The SIM holds a message in two parts,
// one with emoji and one in Turkish; each must become one ticket, leave
// the SIM only once its ticket is there, and not come back as a second
// ticket when it is found on the SIM again after a restart (a crash
// between the commit and AT+CMGD). A staff reply goes out once, as an
// SMS-SUBMIT that decodes to the reply.
func TestApplianceSMS(t *testing.T) {
	began := time.Now()

	// Three customers text the shop, from Britain, the Azores (a zone
	// behind UTC) and Turkey. The service centre stamps each part of the
	// long message on its own, a second apart.
	now := time.Now().Truncate(time.Second)
	uk, az, tr := time.FixedZone("", 0), time.FixedZone("", -3600), time.FixedZone("", 3*3600)
	const (
		daveNum  = "+447700900461"
		anaNum   = "+351912345678"
		emreNum  = "+905321234567"
		daveText = "Hi, Dave here. I bought the Skyhawk 1200 kit from you last Saturday. " +
			"On the second flight the wing spar cracked and the aileron servo (the 9g one) " +
			"stopped moving. Can I bring it in on Tuesday? I paid €189 and still have the " +
			"receipt {order 4471}. Cheers!"
		anaText  = "Props arrived today 👍 but one blade is chipped 😢 can you swap it?"
		emreText = "Pervanem kırıldı, yenisi var mı?"
	)
	dave := deliverPDUs(t, daveNum, daveText, 0x2A, now.Add(-3*time.Minute).In(uk), time.Second)
	ana := deliverPDUs(t, anaNum, anaText, 0, now.Add(-2*time.Minute).In(az), 0)
	emre := deliverPDUs(t, emreNum, emreText, 0, now.Add(-time.Minute).In(tr), 0)
	checkDeliver(t, dave, 2, pdu.GSM7)
	checkDeliver(t, ana, 1, pdu.UCS2)
	checkDeliver(t, emre, 1, pdu.UCS2)

	// The second part is stored before the first, as happens when the
	// network hands them over out of order.
	ptmx, tty := openPseudoTerminal(t)
	m := newPTYModem(ptmx)
	m.store(1, simMessage{pdu: dave[1], from: daveNum, text: daveText})
	m.store(2, simMessage{pdu: ana[0], from: anaNum, text: anaText, whole: true})
	m.store(3, simMessage{pdu: emre[0], from: emreNum, text: emreText, whole: true})
	m.store(4, simMessage{pdu: dave[0], from: daveNum, text: daveText, whole: true})
	m.checkDelete = func(msg simMessage) string { return ticketAtDelete(m, msg) }
	served := make(chan struct{})
	go func() {
		defer close(served)
		m.serve()
	}()
	// Runs last: with the appliance gone, closing the test's own slave
	// descriptor hangs the terminal up, the fake's read fails, and the fake
	// closes the master itself.
	defer func() {
		tty.Close()
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Error("the fake modem did not stop after the terminal hung up")
		}
	}()

	bin := buildBinary(t)
	data := t.TempDir()
	token, _, code := cli(t, bin, "token", "create", "sms-test", "--role", "admin", "--data", data)
	if code != 0 {
		t.Fatalf("token create exited %d", code)
	}
	token = strings.TrimSpace(token)
	client := &http.Client{Timeout: 5 * time.Second}

	env := "COUNTERDESK_MODEM_DEVICE=" + tty.Name()
	a := start(t, bin, data, env)
	defer func() {
		if a != nil {
			a.kill()
		}
	}()
	c := &api{addr: a.addr, token: token, client: client}
	m.api.Store(c)

	// 1. Three tickets, the long message in one piece.
	want := map[string]string{daveNum: daveText, anaNum: anaText, emreNum: emreText}
	var threads map[string]ticket.Thread
	waitUntil(t, a, "three SMS tickets", func() error {
		var err error
		if threads, err = smsThreads(c); err != nil {
			return err
		}
		return checkTickets(threads, want)
	})

	// 2a. Every message left the SIM, each only once its ticket existed.
	waitUntil(t, a, "the SIM to be empty", func() error {
		if left := m.left(); len(left) > 0 {
			return fmt.Errorf("SIM still holds %v", left)
		}
		return nil
	})
	checkDeletes(t, m, []int{1, 2, 3, 4})

	// 2c. Each customer was told their request arrived, with its number,
	// in their language (the Turkish text in two concatenated parts).
	waitUntil(t, a, "the acknowledgements to go out", func() error {
		if n := len(m.submitted()); n < 4 {
			return fmt.Errorf("%d SMS-SUBMITs", n)
		}
		return outboxEmpty(c)
	})
	acks := map[string]string{}
	for _, s := range m.submitted() {
		msg, err := pdu.DecodeHex(s.pdu)
		if err != nil {
			t.Fatalf("sent PDU %s: %v", s.pdu, err)
		}
		acks[msg.Address] += msg.Text
	}
	for num, th := range threads {
		if !strings.Contains(acks[num], fmt.Sprintf("#%d", th.Ticket.Number)) {
			t.Errorf("acknowledgement to %s = %q, want one naming #%d", num, acks[num], th.Ticket.Number)
		}
	}
	if !strings.Contains(acks[emreNum], "numaralı talebinizi aldık") {
		t.Errorf("acknowledgement to the Turkish customer = %q", acks[emreNum])
	}
	if len(acks) != 3 {
		t.Errorf("acknowledgements went to %d numbers, want 3", len(acks))
	}
	acked := len(m.submitted())

	// 3. A staff reply on the Turkish ticket goes out as one SMS.
	const reply = "Evet, yarın gelir."
	postReply(t, c, threads[emreNum].Ticket.Number, reply)
	waitUntil(t, a, "the reply to go out", func() error { return delivered(c, threads[emreNum].Ticket.Number, reply) })
	waitUntil(t, a, "an empty outbox", func() error { return outboxEmpty(c) })
	sent := m.submitted()[acked:]
	if len(sent) != 1 {
		t.Fatalf("%d messages sent for one reply:\n%s", len(sent), strings.Join(m.commands(), "\n"))
	}
	checkSubmit(t, sent[0], emreNum, reply)

	// 2b. After a crash between commit and delete, the Turkish message
	// and the part of the long message read last (its first) are on the
	// SIM again. The restarted appliance deletes them without a second
	// ticket or message.
	a.stop(t)
	a = nil
	m.api.Store(nil)
	m.store(5, simMessage{pdu: emre[0], from: emreNum, text: emreText, whole: true})
	m.store(6, simMessage{pdu: dave[0], from: daveNum, text: daveText, whole: true})
	before := len(m.deletions())
	a = start(t, bin, data, env)
	c = &api{addr: a.addr, token: token, client: client}
	m.api.Store(c)
	waitUntil(t, a, "the SIM to be empty after the restart", func() error {
		if left := m.left(); len(left) > 0 {
			return fmt.Errorf("SIM still holds %v", left)
		}
		return nil
	})
	if dels := m.deletions(); len(dels) != before+2 {
		t.Errorf("%d deletes after the restart, want 2", len(dels)-before)
	}
	checkDeletes(t, m, []int{1, 2, 3, 4, 5, 6})
	threads, err := smsThreads(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkTickets(threads, want); err != nil {
		t.Errorf("after the restart: %v", err)
	}

	// The reply is not sent again: a second reply, queued behind it, is
	// the only new SMS.
	const reply2 = "A new blade goes out today 👍"
	postReply(t, c, threads[anaNum].Ticket.Number, reply2)
	waitUntil(t, a, "the second reply to go out", func() error { return delivered(c, threads[anaNum].Ticket.Number, reply2) })
	waitUntil(t, a, "an empty outbox", func() error { return outboxEmpty(c) })
	sent = m.submitted()[acked:]
	if len(sent) != 2 {
		t.Fatalf("%d messages sent for two replies (after %d acknowledgement parts):\n%s", len(sent), acked, strings.Join(m.commands(), "\n"))
	}
	checkSubmit(t, sent[1], anaNum, reply2)

	a.stop(t)
	a = nil
	if bad := m.unknownCommands(); len(bad) > 0 {
		t.Errorf("the appliance sent commands the fake modem does not know: %q", bad)
	}
	t.Logf("%d modem commands over two runs in %s", len(m.commands()), time.Since(began).Round(time.Millisecond))
}

// openPseudoTerminal opens a pseudo-terminal whose slave stands in for the
// modem's serial device. It skips the test where there are none, unless
// CI=true.
func openPseudoTerminal(t *testing.T) (ptmx, tty *os.File) {
	t.Helper()
	missing := func(err error) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pseudo-terminals are needed: %v", err)
		}
		t.Skipf("no pseudo-terminals: %v", err)
	}
	if _, err := os.Stat("/dev/ptmx"); err != nil {
		missing(err)
	}
	ptmx, tty, err := pty.Open()
	if err != nil {
		missing(err)
	}
	if !strings.HasPrefix(tty.Name(), "/") {
		t.Fatalf("slave %q is not a path the [modem] device setting takes", tty.Name())
	}
	return ptmx, tty
}

// waitUntil polls cond until it returns nil. The deadline is generous: it
// only bounds a test that would otherwise hang.
func waitUntil(t *testing.T, a *appliance, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v\nappliance log:\n%s", what, err, a.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// simMessage is one message on the fake SIM.
type simMessage struct {
	pdu  string // hex, with the service centre address, as AT+CMGL shows it
	from string
	text string
	// whole is set on a single message and on the part of a long one
	// that the appliance reads last: its ticket must exist before the
	// appliance deletes it.
	whole bool
}

// deletion is one AT+CMGD the fake modem answered.
type deletion struct {
	index   int
	problem string // what was wrong at that moment, or ""
}

// ptyModem is a GSM modem on the master side of a pseudo-terminal. It
// echoes commands until ATE0 (ITU-T V.250), answers the set-up and health
// commands of modem/setup.go, keeps a SIM of stored messages for AT+CMGL,
// AT+CMGR and AT+CMGD (3GPP TS 27.005 sections 3.4 and 3.5), and takes
// messages to send with AT+CMGS, after its "> " prompt.
type ptyModem struct {
	ptmx *os.File
	// checkDelete says what is wrong, if anything, when the appliance
	// deletes msg; it runs before the modem answers.
	checkDelete func(msg simMessage) string
	// api is the running appliance's API, or nil while none runs.
	api atomic.Pointer[api]

	mu      stdsync.Mutex
	echo    bool
	sim     map[int]simMessage
	log     []string // every command, in order
	dels    []deletion
	sent    []submission
	unknown []string
	mr      int
}

// submission is what the appliance sent with AT+CMGS.
type submission struct {
	length int    // the TPDU length AT+CMGS gave
	pdu    string // the hex after the prompt
}

func newPTYModem(ptmx *os.File) *ptyModem {
	return &ptyModem{ptmx: ptmx, echo: true, sim: map[int]simMessage{}}
}

func (m *ptyModem) store(i int, msg simMessage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sim[i] = msg
}

// left returns the indexes of the messages still on the SIM.
func (m *ptyModem) left() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int
	for i := range m.sim {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

func (m *ptyModem) commands() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.log)
}

func (m *ptyModem) deletions() []deletion {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.dels)
}

func (m *ptyModem) submitted() []submission {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.sent)
}

func (m *ptyModem) unknownCommands() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.unknown)
}

// serve answers the appliance until the terminal hangs up, then closes
// the master side.
func (m *ptyModem) serve() {
	defer m.ptmx.Close()
	r := bufio.NewReader(m.ptmx)
	var buf []byte
	prompting := -1 // the length given to AT+CMGS while its PDU comes
	for {
		b, err := r.ReadByte()
		if err != nil {
			return
		}
		switch {
		case prompting >= 0 && b == 0x1A: // Ctrl-Z ends the PDU
			m.submit(prompting, string(buf))
			buf, prompting = buf[:0], -1
		case b == 0x1B: // ESC abandons a PDU or a half-typed command
			buf, prompting = buf[:0], -1
		case prompting >= 0:
			buf = append(buf, b)
		case b == '\r':
			cmd := strings.TrimSpace(string(buf))
			buf = buf[:0]
			if cmd != "" {
				prompting = m.command(cmd)
			}
		case b == '\n':
		default:
			buf = append(buf, b)
		}
	}
}

func (m *ptyModem) write(s string) { io.WriteString(m.ptmx, s) }

const atOK = "\r\nOK\r\n"

// command answers one command line. It returns the length of AT+CMGS
// when the PDU should follow, else -1.
func (m *ptyModem) command(cmd string) int {
	m.mu.Lock()
	m.log = append(m.log, cmd)
	if m.echo {
		m.write(cmd + "\r")
	}
	m.mu.Unlock()

	up := strings.ToUpper(cmd)
	switch {
	case up == "AT", up == "AT+CMEE=1", up == "AT+CMGF=0", up == "AT+CLIP=1", up == "AT+CNMA",
		strings.HasPrefix(up, "AT+CNMI="):
		m.write(atOK)
	case up == "ATE0":
		m.mu.Lock()
		m.echo = false
		m.mu.Unlock()
		m.write(atOK)
	case up == "AT+CPIN?":
		m.write("\r\n+CPIN: READY\r\n" + atOK)
	case strings.HasPrefix(up, "AT+CPMS="):
		m.mu.Lock()
		n := len(m.sim)
		m.mu.Unlock()
		m.write(fmt.Sprintf("\r\n+CPMS: %d,30,%d,30,%d,30\r\n", n, n, n) + atOK)
	case up == "AT+CSQ":
		m.write("\r\n+CSQ: 19,99\r\n" + atOK)
	case up == "AT+CREG?":
		m.write("\r\n+CREG: 0,1\r\n" + atOK)
	case up == "AT+COPS?":
		m.write("\r\n+COPS: 0,0,\"Turkcell\",7\r\n" + atOK)
	case up == "AT+CMGL=4":
		m.write(m.list())
	case strings.HasPrefix(up, "AT+CMGR="):
		m.write(m.read(strings.TrimPrefix(up, "AT+CMGR=")))
	case strings.HasPrefix(up, "AT+CMGD="):
		m.write(m.delete(strings.TrimPrefix(up, "AT+CMGD=")))
	case strings.HasPrefix(up, "AT+CMGS="):
		n, err := strconv.Atoi(strings.TrimPrefix(up, "AT+CMGS="))
		if err != nil || n <= 0 {
			m.write("\r\n+CMS ERROR: 304\r\n")
			return -1
		}
		m.write("\r\n> ")
		return n
	default:
		m.mu.Lock()
		m.unknown = append(m.unknown, cmd)
		m.mu.Unlock()
		m.write("\r\nERROR\r\n")
	}
	return -1
}

// list answers AT+CMGL=4 (all messages) in PDU mode: "+CMGL: <index>,
// <stat>,,<length>" and the PDU for each (3GPP TS 27.005 section 3.4.2).
func (m *ptyModem) list() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var idx []int
	for i := range m.sim {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	var b strings.Builder
	for _, i := range idx {
		fmt.Fprintf(&b, "\r\n+CMGL: %d,0,,%d\r\n%s", i, tpduLength(m.sim[i].pdu), m.sim[i].pdu)
	}
	return b.String() + "\r\n" + atOK
}

// read answers AT+CMGR (3GPP TS 27.005 section 3.4.3).
func (m *ptyModem) read(arg string) string {
	i, _ := strconv.Atoi(arg)
	m.mu.Lock()
	defer m.mu.Unlock()
	msg, found := m.sim[i]
	if !found {
		return "\r\n+CMS ERROR: 321\r\n"
	}
	return fmt.Sprintf("\r\n+CMGR: 0,,%d\r\n%s\r\n", tpduLength(msg.pdu), msg.pdu) + atOK
}

// delete answers AT+CMGD, after checkDelete looked at the desk.
func (m *ptyModem) delete(arg string) string {
	i, _ := strconv.Atoi(arg)
	m.mu.Lock()
	msg, found := m.sim[i]
	m.mu.Unlock()
	if !found {
		return "\r\n+CMS ERROR: 321\r\n"
	}
	d := deletion{index: i}
	if m.checkDelete != nil {
		d.problem = m.checkDelete(msg)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sim, i)
	m.dels = append(m.dels, d)
	return atOK
}

// submit takes the PDU that followed the "> " prompt.
func (m *ptyModem) submit(length int, pduHex string) {
	m.mu.Lock()
	m.sent = append(m.sent, submission{length: length, pdu: strings.TrimSpace(pduHex)})
	m.mr++
	mr := m.mr
	m.mu.Unlock()
	m.write(fmt.Sprintf("\r\n+CMGS: %d\r\n", mr) + atOK)
}

// tpduLength is the length AT+CMGL, AT+CMGR and AT+CMGS count: the PDU's
// octets without the service centre address (3GPP TS 27.005 section 3.1).
func tpduLength(pduHex string) int {
	b, err := hex.DecodeString(pduHex)
	if err != nil || len(b) == 0 {
		return 0
	}
	return len(b) - 1 - int(b[0])
}

// ticketAtDelete is the fake modem's look at the desk when the appliance
// deletes msg: the message must be a ticket by then, unless it is a part
// of a long message that is not complete yet.
func ticketAtDelete(m *ptyModem, msg simMessage) string {
	if !msg.whole {
		return ""
	}
	// The appliance may read the SIM before the test knows its address.
	var c *api
	for deadline := time.Now().Add(5 * time.Second); c == nil; {
		if c = m.api.Load(); c == nil {
			if time.Now().After(deadline) {
				return "no appliance API to look at"
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	threads, err := smsThreads(c)
	if err != nil {
		return err.Error()
	}
	th, found := threads[msg.from]
	if !found {
		return fmt.Sprintf("no ticket from %s yet", msg.from)
	}
	for _, mm := range th.Messages {
		if mm.Direction == ticket.Incoming && mm.Body == msg.text {
			return ""
		}
	}
	return fmt.Sprintf("ticket #%d from %s lacks the message", th.Ticket.Number, msg.from)
}

// checkDeletes checks that each index was deleted and that no delete came
// before its ticket.
func checkDeletes(t *testing.T, m *ptyModem, indexes []int) {
	t.Helper()
	deleted := map[int]bool{}
	for _, d := range m.deletions() {
		deleted[d.index] = true
		if d.problem != "" {
			t.Errorf("SIM message %d deleted too early: %s", d.index, d.problem)
		}
	}
	for _, i := range indexes {
		if !deleted[i] {
			t.Errorf("SIM message %d was never deleted", i)
		}
	}
}

// deliverPDUs returns the SMS-DELIVER PDUs (hex) in which a network hands
// over text from the number from, stamped at (each further part step
// later). The user data is what the sender's phone put in its SMS-SUBMIT,
// which the project's encoder builds: GSM 7-bit or UCS-2, split into parts
// with an 8-bit concatenation reference ref when it is long.
func deliverPDUs(t *testing.T, from, text string, ref uint16, at time.Time, step time.Duration) []string {
	t.Helper()
	submits, err := pdu.EncodeSubmit(from, text, pdu.SubmitOptions{ConcatRef: ref, Class: -1})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, s := range submits {
		out = append(out, strings.ToUpper(hex.EncodeToString(deliverFromSubmit(t, s, from, at.Add(time.Duration(i)*step)))))
	}
	return out
}

// deliverFromSubmit builds an SMS-DELIVER (3GPP TS 23.040 clause 9.2.2.1)
// that carries the TP-DCS, TP-UDL and TP-UD of the SMS-SUBMIT submit
// (clause 9.2.2.2).
func deliverFromSubmit(t *testing.T, submit []byte, from string, at time.Time) []byte {
	t.Helper()
	// SMS-SUBMIT: SMSC address (its length octet first), first octet,
	// TP-MR, TP-DA (length in digits, type, semi-octets), TP-PID, TP-DCS,
	// TP-VP (none, 1 or 7 octets by TP-VPF, bits 4 and 3), TP-UDL, TP-UD.
	off := 1 + int(submit[0])
	fo := submit[off]
	off += 2
	off += 2 + (int(submit[off])+1)/2
	dcs := submit[off+1]
	off += 2
	switch (fo >> 3) & 0x03 {
	case 0x02:
		off++
	case 0x01, 0x03:
		off += 7
	}
	ud := submit[off:] // TP-UDL and TP-UD

	var b bytes.Buffer
	// The service centre's address: 7 octets follow, type 0x91
	// (international, ISDN numbering plan), +44 7785 016005 in swapped
	// semi-octets, F filling the odd digit (3GPP TS 24.008 clause 10.5.4.9).
	b.Write([]byte{0x07, 0x91, 0x44, 0x77, 0x58, 0x10, 0x06, 0xF5})
	// First octet: TP-MTI 00 (SMS-DELIVER), TP-MMS 1 (no more messages
	// waiting), TP-UDHI copied from the SUBMIT (bit 6: a header precedes
	// the text).
	b.WriteByte(0x04 | fo&0x40)
	// TP-OA: the number of digits, type 0x91, the digits in swapped
	// semi-octets (clause 9.1.2.5).
	digits := strings.TrimPrefix(from, "+")
	b.WriteByte(byte(len(digits)))
	b.WriteByte(0x91)
	b.Write(semiOctets(t, digits))
	// TP-PID 00 (plain SMS) and the SUBMIT's TP-DCS.
	b.WriteByte(0x00)
	b.WriteByte(dcs)
	// TP-SCTS: year, month, day, hour, minute, second, each two swapped
	// decimal digits, and the zone in quarter hours whose sign is bit 3 of
	// that octet (clause 9.2.3.11).
	_, offset := at.Zone()
	quarters := offset / 900
	sign := byte(0)
	if quarters < 0 {
		quarters, sign = -quarters, 0x08
	}
	for _, v := range []int{at.Year() % 100, int(at.Month()), at.Day(), at.Hour(), at.Minute(), at.Second(), quarters} {
		b.WriteByte(byte(v%10)<<4 | byte(v/10))
	}
	b.Bytes()[b.Len()-1] |= sign
	b.Write(ud)
	return b.Bytes()
}

// semiOctets packs decimal digits two to an octet, the first in the low
// nibble, with F filling an odd count (3GPP TS 23.040 clause 9.1.2.3).
func semiOctets(t *testing.T, digits string) []byte {
	t.Helper()
	if len(digits)%2 == 1 {
		digits += "F"
	}
	out := make([]byte, len(digits)/2)
	for i := range out {
		lo, err1 := strconv.ParseUint(digits[2*i:2*i+1], 16, 8)
		hi, err2 := strconv.ParseUint(digits[2*i+1:2*i+2], 16, 8)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		out[i] = byte(hi<<4 | lo)
	}
	return out
}

// checkDeliver checks that the project's decoder reads the fake SIM's
// PDUs as the test means them, so that a failure later is the appliance's:
// SMS-DELIVERs with a time stamp, in the alphabet enc, in n parts with an
// 8-bit reference, and emoji as UTF-16 surrogate pairs.
func checkDeliver(t *testing.T, parts []string, n int, enc pdu.Encoding) {
	t.Helper()
	if len(parts) != n {
		t.Fatalf("test message in %d parts, want %d", len(parts), n)
	}
	for i, p := range parts {
		msg, err := pdu.DecodeHex(p)
		if err != nil {
			t.Fatalf("test PDU %s: %v", p, err)
		}
		if msg.Type != pdu.Deliver || msg.Timestamp.IsZero() || msg.Encoding != enc {
			t.Fatalf("test PDU %s decodes as %v in %v at %v", p, msg.Type, msg.Encoding, msg.Timestamp)
		}
		if n > 1 && (msg.Concat == nil || int(msg.Concat.Total) != n || int(msg.Concat.Seq) != i+1 || msg.Concat.Ref16) {
			t.Fatalf("test PDU %s: concatenation %+v", p, msg.Concat)
		}
		if enc == pdu.UCS2 && strings.ContainsFunc(msg.Text, func(r rune) bool { return r > 0xFFFF }) {
			if !hasSurrogatePair(msg.Data) {
				t.Fatalf("test PDU %s carries emoji without surrogate pairs", p)
			}
		}
	}
}

// hasSurrogatePair reports whether UCS-2 user data holds a high surrogate
// followed by a low one (3GPP TS 23.038 clause 6.2.3, RFC 2781).
func hasSurrogatePair(b []byte) bool {
	for i := 0; i+3 < len(b); i += 2 {
		hi, lo := uint16(b[i])<<8|uint16(b[i+1]), uint16(b[i+2])<<8|uint16(b[i+3])
		if hi >= 0xD800 && hi < 0xDC00 && lo >= 0xDC00 && lo < 0xE000 {
			return true
		}
	}
	return false
}

// checkSubmit decodes what the appliance sent with the project's decoder.
func checkSubmit(t *testing.T, s submission, to, text string) {
	t.Helper()
	if got := tpduLength(s.pdu); got != s.length {
		t.Errorf("AT+CMGS=%d for a TPDU of %d octets", s.length, got)
	}
	msg, err := pdu.DecodeHex(s.pdu)
	if err != nil {
		t.Fatalf("sent PDU %s: %v", s.pdu, err)
	}
	if msg.Type != pdu.Submit || msg.Address != to || msg.Text != text || msg.Concat != nil {
		t.Errorf("sent %v to %q: %q (parts %+v), want one SMS-SUBMIT to %q: %q", msg.Type, msg.Address, msg.Text, msg.Concat, to, text)
	}
	if msg.FirstOctet&0x20 == 0 {
		t.Errorf("sent PDU %s asks for no status report", s.pdu)
	}
}

// checkTickets checks that threads, by phone number, are exactly one
// ticket per sender with the sender's text as its one customer message.
func checkTickets(threads map[string]ticket.Thread, want map[string]string) error {
	if len(threads) != len(want) {
		return fmt.Errorf("%d tickets, want %d", len(threads), len(want))
	}
	for from, text := range want {
		th, found := threads[from]
		if !found {
			return fmt.Errorf("no ticket from %s", from)
		}
		if th.Ticket.Channel != ticket.ChannelSMS {
			return fmt.Errorf("ticket #%d from %s came by %q", th.Ticket.Number, from, th.Ticket.Channel)
		}
		var in []ticket.Message
		for _, m := range th.Messages {
			if m.Direction == ticket.Incoming {
				in = append(in, m)
			}
		}
		if len(in) != 1 || in[0].Body != text || len(in[0].Flags) > 0 {
			return fmt.Errorf("ticket #%d from %s has the customer messages %+v, want one: %q", th.Ticket.Number, from, in, text)
		}
	}
	return nil
}

// smsThreads returns every ticket's thread by its contact's phone number.
func smsThreads(c *api) (map[string]ticket.Thread, error) {
	var page struct {
		Tickets []ticket.Ticket `json:"tickets"`
		Next    string          `json:"next"`
	}
	if err := apiGet(c, "/api/v1/tickets?limit=100", &page); err != nil {
		return nil, err
	}
	out := map[string]ticket.Thread{}
	for _, tk := range page.Tickets {
		var th ticket.Thread
		if err := apiGet(c, "/api/v1/tickets/"+strconv.FormatUint(tk.Number, 10), &th); err != nil {
			return nil, err
		}
		key := th.Contact.Name
		if len(th.Contact.Phones) > 0 {
			key = th.Contact.Phones[0]
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("two tickets from %s", key)
		}
		out[key] = th
	}
	return out, nil
}

// delivered returns nil once the reply with body on ticket n was sent.
func delivered(c *api, n uint64, body string) error {
	var th ticket.Thread
	if err := apiGet(c, "/api/v1/tickets/"+strconv.FormatUint(n, 10), &th); err != nil {
		return err
	}
	for _, m := range th.Messages {
		if m.Direction == ticket.Outgoing && m.Body == body {
			if m.Delivery != ticket.DeliverySent {
				return fmt.Errorf("reply is %q", m.Delivery)
			}
			return nil
		}
	}
	return fmt.Errorf("ticket #%d has no reply %q", n, body)
}

// outboxEmpty returns nil once no outbox row waits or is parked.
func outboxEmpty(c *api) error {
	var st ticket.OutboxStats
	if err := apiGet(c, "/api/v1/outbox/stats", &st); err != nil {
		return err
	}
	if st.Pending > 0 || st.Dead > 0 {
		return fmt.Errorf("outbox: %d waiting, %d parked", st.Pending, st.Dead)
	}
	return nil
}

func postReply(t *testing.T, c *api, n uint64, body string) {
	t.Helper()
	data, _ := json.Marshal(map[string]string{"body": body})
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://%s/api/v1/tickets/%d/replies", c.addr, n), bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	r, err := c.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(r.Body)
		t.Fatalf("reply on #%d: %d %s", n, r.StatusCode, msg)
	}
}

func apiGet(c *api, path string, v any) error {
	req, err := http.NewRequest("GET", "http://"+c.addr+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	r, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if r.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, r.StatusCode, data)
	}
	return json.Unmarshal(data, v)
}
