package modem

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeModem answers commands over one end of a pipe as a scripted modem.
type fakeModem struct {
	conn io.ReadWriteCloser
	// echo repeats each command, as modems do until ATE0 turns it off.
	echo bool
	// answer returns the raw text to send back for a command (CR LF
	// included), or "" to stay silent.
	answer func(cmd string) string
	pdus   chan string // what was sent after a "> " prompt
}

func newFake(t *testing.T, echo bool, answer func(string) string) (*Engine, *fakeModem) {
	t.Helper()
	return newFakeTB(t, echo, answer)
}

// newFakeB is newFake for benchmarks.
func newFakeB(b *testing.B, answer func(string) string) (*Engine, *fakeModem) {
	return newFakeTB(b, false, answer)
}

func newFakeTB(t testing.TB, echo bool, answer func(string) string) (*Engine, *fakeModem) {
	a, b := net.Pipe()
	f := &fakeModem{conn: b, echo: echo, answer: answer, pdus: make(chan string, 8)}
	go f.serve()
	e := NewEngine(a, EngineOptions{Timeout: 500 * time.Millisecond})
	t.Cleanup(func() { a.Close(); b.Close() })
	return e, f
}

// hangUp, as an answer, makes the fake modem close its end instead, as an
// unplugged modem vanishes in the middle of a command.
const hangUp = "\x00hang up"

func (f *fakeModem) serve() {
	r := bufio.NewReader(f.conn)
	prompting := false
	for {
		if prompting {
			pdu, err := r.ReadString('\x1a')
			if err != nil {
				return
			}
			f.pdus <- strings.TrimSuffix(pdu, "\x1a")
			prompting = false
			f.send(f.answer("PDU:" + strings.TrimSuffix(pdu, "\x1a")))
			continue
		}
		line, err := r.ReadString('\r')
		if err != nil {
			return
		}
		cmd := strings.Trim(line, "\r\x1b")
		if cmd == "" {
			continue
		}
		if f.echo {
			f.send(cmd + "\r")
			if strings.EqualFold(cmd, "ATE0") {
				f.echo = false
			}
		}
		out := f.answer(cmd)
		if out == hangUp {
			f.conn.Close()
			return
		}
		if strings.HasSuffix(out, "> ") {
			prompting = true
		}
		f.send(out)
	}
}

func (f *fakeModem) send(s string) {
	if s != "" {
		io.WriteString(f.conn, s)
	}
}

func TestCommandResults(t *testing.T) {
	e, _ := newFake(t, true, func(cmd string) string {
		switch cmd {
		case "AT+CSQ":
			return "\r\n+CSQ: 21,99\r\n\r\nOK\r\n"
		case "AT+CMGR=9":
			return "\r\n+CMS ERROR: 321\r\n"
		case "AT+CPIN?":
			return "\r\n+CME ERROR: 10\r\n"
		case "AT+CPIN=\"0000\"":
			return "\r\n+CME ERROR: \"incorrect password\"\r\n"
		case "AT+WIND?":
			return "\r\nERROR\r\n"
		case "AT+CGMI":
			// A URC in the middle of the response, as Huawei sticks do.
			return "\r\nhuawei\r\n\r\n^RSSI: 17\r\n\r\nOK\r\n"
		}
		return ""
	})
	ctx := context.Background()
	lines, err := e.Command(ctx, "AT+CSQ", 0)
	if err != nil || len(lines) != 1 || lines[0] != "+CSQ: 21,99" {
		t.Fatalf("AT+CSQ = %q, %v (echo must be skipped)", lines, err)
	}
	_, err = e.Command(ctx, "AT+CMGR=9", 0)
	var cms *CMSError
	if !errors.As(err, &cms) || cms.Code != 321 || cms.Text != "invalid memory index" {
		t.Errorf("AT+CMGR=9 = %v, want +CMS ERROR 321", err)
	}
	_, err = e.Command(ctx, "AT+CPIN?", 0)
	var cme *CMEError
	if !errors.As(err, &cme) || cme.Code != 10 {
		t.Errorf("AT+CPIN? = %v, want +CME ERROR 10", err)
	}
	_, err = e.Command(ctx, `AT+CPIN="0000"`, 0)
	if !errors.As(err, &cme) || cme.Code != -1 || cme.Text != "incorrect password" {
		t.Errorf("verbose +CME = %v", err)
	}
	if _, err = e.Command(ctx, "AT+WIND?", 0); !errors.Is(err, ErrError) {
		t.Errorf("AT+WIND? = %v, want ERROR", err)
	}
	lines, err = e.Command(ctx, "AT+CGMI", 0)
	if err != nil || len(lines) != 1 || lines[0] != "huawei" {
		t.Fatalf("AT+CGMI = %q, %v", lines, err)
	}
	select {
	case u := <-e.URCs():
		if u.Name != "^RSSI" || u.Value != "17" {
			t.Errorf("URC = %+v", u)
		}
	case <-time.After(time.Second):
		t.Error("the ^RSSI in the middle of a response was lost")
	}
	if _, err := e.Command(ctx, "AT\rATD112;", 0); !errors.Is(err, ErrBadCommand) {
		t.Errorf("a command with CR: %v", err)
	}
}

func TestURCsOutsideAndInsideCommands(t *testing.T) {
	e, f := newFake(t, false, func(cmd string) string {
		if cmd == "AT+CREG?" {
			// The answer has the prefix of a URC; it belongs to the command.
			return "\r\n+CREG: 0,1\r\n\r\nOK\r\n"
		}
		return "\r\nOK\r\n"
	})
	f.send("\r\n+CMTI: \"SM\",3\r\n\r\nRING\r\n\r\n+CLIP: \"+447700900123\",145,,,,0\r\n")
	f.send("\r\n+CMT: ,24\r\n07914477790030F5040C914477009001320000622151021240400BD4F29C0E9A36A7A0\r\n")
	f.send("\r\n^BOOT:24478497,0,0,0,75\r\n")
	want := []URC{
		{Name: "+CMTI", Value: `"SM",3`},
		{Name: "RING"},
		{Name: "+CLIP", Value: `"+447700900123",145,,,,0`},
		{Name: "+CMT", Value: ",24", Data: "07914477790030F5040C914477009001320000622151021240400BD4F29C0E9A36A7A0"},
		{Name: "^BOOT", Value: "24478497,0,0,0,75"},
	}
	for i, w := range want {
		select {
		case u := <-e.URCs():
			if u != w {
				t.Errorf("URC %d = %+v, want %+v", i, u, w)
			}
		case <-time.After(time.Second):
			t.Fatalf("URC %d did not arrive", i)
		}
	}
	lines, err := e.Command(context.Background(), "AT+CREG?", 0)
	if err != nil || len(lines) != 1 || lines[0] != "+CREG: 0,1" {
		t.Errorf("AT+CREG? = %q, %v", lines, err)
	}
	select {
	case u := <-e.URCs():
		t.Errorf("the answer to AT+CREG? came out as a URC: %+v", u)
	default:
	}
}

func TestTimeoutThenResync(t *testing.T) {
	e, f := newFake(t, false, func(cmd string) string {
		switch cmd {
		case "AT+COPS?":
			return "" // answers late, below
		case "AT+CSQ":
			return "\r\n+CSQ: 15,99\r\n\r\nOK\r\n"
		}
		return "\r\nOK\r\n"
	})
	ctx := context.Background()
	_, err := e.Command(ctx, "AT+COPS?", 100*time.Millisecond)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("AT+COPS? = %v, want timeout", err)
	}
	// The late answer arrives; it must not be taken for the next command's.
	f.send("\r\n+COPS: 0,0,\"vodafone UK\",7\r\n\r\nOK\r\n")
	lines, err := e.Command(ctx, "AT+CSQ", 0)
	if err != nil || len(lines) != 1 || lines[0] != "+CSQ: 15,99" {
		t.Errorf("AT+CSQ after a timeout = %q, %v", lines, err)
	}
}

func TestSendPDU(t *testing.T) {
	const pdu = "0011000C914477009001320000AA0BD4F29C0E9A36A7A0"
	e, f := newFake(t, false, func(cmd string) string {
		switch {
		case cmd == "AT+CMGS=22":
			return "\r\n> "
		case strings.HasPrefix(cmd, "PDU:"):
			return "\r\n+CMGS: 142\r\n\r\nOK\r\n"
		}
		return "\r\nOK\r\n"
	})
	mr, err := e.SendPDU(context.Background(), 22, pdu, time.Second)
	if err != nil || mr != 142 {
		t.Fatalf("SendPDU = %d, %v; want 142", mr, err)
	}
	if got := <-f.pdus; got != pdu {
		t.Errorf("modem got %q", got)
	}
	if _, err := e.SendPDU(context.Background(), 22, "not hex", time.Second); !errors.Is(err, ErrBadCommand) {
		t.Errorf("non-hex PDU: %v", err)
	}
}

func TestPortGoneEndsCommands(t *testing.T) {
	e, f := newFake(t, false, func(cmd string) string { return "" })
	go func() {
		time.Sleep(50 * time.Millisecond)
		f.conn.Close()
	}()
	_, err := e.Command(context.Background(), "AT", 5*time.Second)
	if !errors.Is(err, ErrClosed) {
		t.Errorf("command on a vanished port = %v, want ErrClosed", err)
	}
	<-e.Done()
	if !errors.Is(e.Err(), ErrClosed) {
		t.Errorf("Err = %v", e.Err())
	}
}

func TestLineReader(t *testing.T) {
	in := "\r\nOK\r\nATE0\r\rline one\nline two\r\n> \r\n" + strings.Repeat("x", MaxLine+5) + "\r\nafter\r\ntail"
	lr := NewLineReader(strings.NewReader(in))
	want := []string{"OK", "ATE0", "line one", "line two", ">"}
	for _, w := range want {
		got, err := lr.Next()
		if err != nil || got != w {
			t.Fatalf("Next = %q, %v; want %q", got, err, w)
		}
	}
	if _, err := lr.Next(); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("over-long line: %v", err)
	}
	for _, w := range []string{"after", "tail"} {
		if got, err := lr.Next(); err != nil || got != w {
			t.Fatalf("Next = %q, %v; want %q", got, err, w)
		}
	}
	if _, err := lr.Next(); err != io.EOF {
		t.Errorf("at the end: %v", err)
	}
}

// FuzzLineReader feeds arbitrary modem output to the line reader and the
// line classifiers: no panic, lines bounded, no line ends inside a line.
func FuzzLineReader(f *testing.F) {
	for _, s := range []string{"\r\nOK\r\n", "+CMS ERROR: 500\r\n", "> ", "+CMT: ,24\r\n0791\r\n", "^RSSI:17\r\r\n", "\x00\xff\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lr := NewLineReader(strings.NewReader(s))
		for {
			line, err := lr.Next()
			if errors.Is(err, ErrLineTooLong) {
				continue
			}
			if err != nil {
				return
			}
			if len(line) > MaxLine || strings.ContainsAny(line, "\r\n") {
				t.Fatalf("bad line %q", line)
			}
			Final(line)
			parseURC(line)
			prefixOf(line)
		}
	})
}
