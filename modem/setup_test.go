package modem

import (
	"context"
	"errors"
	"strings"
	stdsync "sync"
	"testing"
)

// simModem is a stateful fake: echo on until ATE0, a SIM that wants PIN
// 1234 and locks after three wrong ones, and a CNMI mode it refuses.
type simModem struct {
	mu       stdsync.Mutex
	pinState string
	wrong    int
	sent     []string
}

func (m *simModem) answer(cmd string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, cmd)
	ok := "\r\nOK\r\n"
	switch {
	case cmd == "AT+CPIN?":
		return "\r\n+CPIN: " + m.pinState + "\r\n" + ok
	case strings.HasPrefix(cmd, "AT+CPIN="):
		if cmd == `AT+CPIN="1234"` && m.pinState == "SIM PIN" {
			m.pinState = "READY"
			return ok
		}
		if m.wrong++; m.wrong >= 3 {
			m.pinState = "SIM PUK"
		}
		return "\r\n+CME ERROR: 16\r\n"
	case cmd == "AT+CNMI=2,1,0,2,0":
		return "\r\n+CMS ERROR: 303\r\n" // this modem cannot route status reports so
	case cmd == "AT+CSQ":
		return "\r\n+CSQ: 18,99\r\n" + ok
	case cmd == "AT+CREG?":
		return "\r\n+CREG: 0,5\r\n" + ok
	case cmd == "AT+COPS?":
		return "\r\n+COPS: 0,0,\"TURKCELL\",2\r\n" + ok
	}
	return ok
}

func TestInitWithPIN(t *testing.T) {
	m := &simModem{pinState: "SIM PIN"}
	e, _ := newFake(t, true, m.answer)
	ctx := context.Background()
	if err := Init(ctx, e, Setup{PIN: "1234", Storage: "ME"}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(m.sent, " | ")
	for _, want := range []string{"ATE0", "AT+CMEE=1", `AT+CPIN="1234"`, "AT+CMGF=0", `AT+CPMS="ME","ME","ME"`, "AT+CNMI=2,1,0,1,0", "AT+CLIP=1"} {
		if !strings.Contains(got, want) {
			t.Errorf("init did not send %s: %s", want, got)
		}
	}
	st, err := ReadStatus(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if st.Operator != "TURKCELL" || !st.Registration.Registered() || st.Signal.DBm() != -77 {
		t.Errorf("status = %+v", st)
	}
	if s := st.String(); s != "registered (roaming), TURKCELL, signal -77 dBm" {
		t.Errorf("status sentence = %q", s)
	}
}

func TestInitNeverGuessesThePIN(t *testing.T) {
	m := &simModem{pinState: "SIM PIN"}
	e, _ := newFake(t, false, m.answer)
	ctx := context.Background()
	if err := Init(ctx, e, Setup{}); !errors.Is(err, ErrNeedPIN) {
		t.Fatalf("no PIN configured: %v", err)
	}
	err := Init(ctx, e, Setup{PIN: "9999"})
	var cme *CMEError
	if !errors.As(err, &cme) || cme.Code != 16 {
		t.Fatalf("wrong PIN: %v", err)
	}
	if strings.Contains(err.Error(), "9999") {
		t.Errorf("the PIN reached an error message: %v", err)
	}
	if m.wrong != 1 {
		t.Errorf("the PIN was tried %d times in one Init", m.wrong)
	}
	m.pinState = "SIM PUK"
	if err := Init(ctx, e, Setup{PIN: "1234"}); !errors.Is(err, ErrSIMLocked) {
		t.Errorf("PUK: %v", err)
	}
}
