package modem

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadReply means a reply line did not have the form its command
// defines; the error names the line.
var ErrBadReply = errors.New("modem: unexpected reply")

func badReply(line string) error { return fmt.Errorf("%w: %q", ErrBadReply, line) }

// fields splits the value of "+NAME: a,b,"c,d",e" at the commas outside
// quotes and removes the quotes. A quote left open runs to the end, as some
// modems send (gammu's at-creg-corner cases).
func fields(value string) []string {
	var out []string
	var b strings.Builder
	quoted := false
	for _, r := range value {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			out = append(out, strings.TrimSpace(b.String()))
			b.Reset()
		default:
			b.WriteRune(r)
		}
	}
	return append(out, strings.TrimSpace(b.String()))
}

// value returns what follows "NAME:" in line, or false.
func value(line, name string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), name+":")
	return strings.TrimSpace(rest), ok
}

// Signal is the answer to AT+CSQ (3GPP TS 27.007 section 8.5).
type Signal struct {
	RSSI int // 0..31, or 99 for not known
	BER  int // 0..7, or 99 for not known
}

// Known reports whether the modem knows the signal strength.
func (s Signal) Known() bool { return s.RSSI >= 0 && s.RSSI <= 31 }

// DBm returns the received signal strength in dBm: -113 for RSSI 0, then
// 2 dB a step up to -51 for 31.
func (s Signal) DBm() int { return -113 + 2*s.RSSI }

// ParseCSQ reads "+CSQ: <rssi>,<ber>".
func ParseCSQ(line string) (Signal, error) {
	v, ok := value(line, "+CSQ")
	if !ok {
		return Signal{}, badReply(line)
	}
	f := fields(v)
	if len(f) != 2 {
		return Signal{}, badReply(line)
	}
	rssi, err1 := strconv.Atoi(f[0])
	ber, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || rssi < 0 || (rssi > 31 && rssi != 99) {
		return Signal{}, badReply(line)
	}
	return Signal{RSSI: rssi, BER: ber}, nil
}

// Registration is network registration from +CREG (3GPP TS 27.007
// section 7.2).
type Registration struct {
	Stat int    // 0 not registered, 1 home, 2 searching, 3 denied, 4 unknown, 5 roaming
	LAC  string // location area code, hex, when the modem gives it
	CI   string // cell id, hex
	Act  int    // access technology, or -1
}

// Registered reports whether the modem is on a network (home or roaming).
func (r Registration) Registered() bool { return r.Stat == 1 || r.Stat == 5 }

// String names the state for the staff.
func (r Registration) String() string {
	switch r.Stat {
	case 0:
		return "not registered"
	case 1:
		return "registered (home network)"
	case 2:
		return "searching for a network"
	case 3:
		return "registration denied"
	case 5:
		return "registered (roaming)"
	}
	return "registration unknown"
}

// ParseCREG reads a +CREG line. The answer to AT+CREG? starts with the
// reporting mode ("+CREG: <n>,<stat>[,<lac>,<ci>[,<AcT>]]"); the
// unsolicited code does not ("+CREG: <stat>[,<lac>,<ci>[,<AcT>]]").
func ParseCREG(line string, solicited bool) (Registration, error) {
	v, ok := value(line, "+CREG")
	if !ok || v == "" {
		return Registration{}, badReply(line)
	}
	f := fields(v)
	if solicited {
		if len(f) < 2 {
			return Registration{}, badReply(line)
		}
		f = f[1:]
	}
	stat, err := strconv.Atoi(f[0])
	if err != nil || stat < 0 || stat > 10 {
		return Registration{}, badReply(line)
	}
	r := Registration{Stat: stat, Act: -1}
	if len(f) >= 3 {
		r.LAC, r.CI = f[1], f[2]
	}
	if len(f) >= 4 {
		if act, err := strconv.Atoi(f[3]); err == nil {
			r.Act = act
		}
	}
	return r, nil
}

// ParseCOPS reads the answer to AT+COPS? ("+COPS: <mode>[,<format>,<oper>[,<AcT>]]",
// 3GPP TS 27.007 section 7.3) and returns the operator, or "" when the
// modem is on no network.
func ParseCOPS(line string) (string, error) {
	v, ok := value(line, "+COPS")
	if !ok || v == "" {
		return "", badReply(line)
	}
	f := fields(v)
	if _, err := strconv.Atoi(f[0]); err != nil {
		return "", badReply(line)
	}
	if len(f) < 3 {
		return "", nil
	}
	return f[2], nil
}

// Stored is one message in the modem's memory, from AT+CMGL or AT+CMGR in
// PDU mode (3GPP TS 27.005 sections 3.4.2 and 3.4.3).
type Stored struct {
	Index  int    // memory index, for AT+CMGR and AT+CMGD; -1 for AT+CMGR
	Status int    // 0 received unread, 1 received read, 2 stored unsent, 3 stored sent
	Length int    // TPDU length in octets
	PDU    string // hex, SMSC address included
}

// ParseCMGL reads the lines of an AT+CMGL=4 answer: a "+CMGL:
// <index>,<stat>,[<alpha>],<length>" line, then the PDU line, per message.
func ParseCMGL(lines []string) ([]Stored, error) {
	var out []Stored
	for i := 0; i < len(lines); i++ {
		v, ok := value(lines[i], "+CMGL")
		if !ok {
			return out, badReply(lines[i])
		}
		f := fields(v)
		if len(f) < 3 || i+1 >= len(lines) {
			return out, badReply(lines[i])
		}
		idx, err1 := strconv.Atoi(f[0])
		stat, err2 := strconv.Atoi(f[1])
		length, err3 := strconv.Atoi(f[len(f)-1])
		if err1 != nil || err2 != nil || err3 != nil {
			return out, badReply(lines[i])
		}
		i++
		out = append(out, Stored{Index: idx, Status: stat, Length: length, PDU: strings.TrimSpace(lines[i])})
	}
	return out, nil
}

// ParseCMGR reads the lines of an AT+CMGR answer in PDU mode:
// "+CMGR: <stat>,[<alpha>],<length>" and the PDU line.
func ParseCMGR(lines []string) (Stored, error) {
	if len(lines) != 2 {
		return Stored{}, fmt.Errorf("%w: %d lines to AT+CMGR", ErrBadReply, len(lines))
	}
	v, ok := value(lines[0], "+CMGR")
	if !ok {
		return Stored{}, badReply(lines[0])
	}
	f := fields(v)
	stat, err1 := strconv.Atoi(f[0])
	length, err2 := strconv.Atoi(f[len(f)-1])
	if err1 != nil || err2 != nil || len(f) < 2 {
		return Stored{}, badReply(lines[0])
	}
	return Stored{Index: -1, Status: stat, Length: length, PDU: strings.TrimSpace(lines[1])}, nil
}

// ParseCMTI reads the value of a +CMTI code ("<mem>",<index>): a new
// message stored at index.
func ParseCMTI(v string) (mem string, index int, err error) {
	f := fields(v)
	if len(f) != 2 {
		return "", 0, badReply(v)
	}
	index, err = strconv.Atoi(f[1])
	if err != nil || index < 0 {
		return "", 0, badReply(v)
	}
	return f[0], index, nil
}

// ParseCLIP reads the value of a +CLIP code ("<number>",<type>,...): the
// caller's number, "" when withheld, and its type of address (145 for an
// international number).
func ParseCLIP(v string) (number string, typ int, err error) {
	f := fields(v)
	if len(f) < 2 {
		return "", 0, badReply(v)
	}
	typ, err = strconv.Atoi(f[1])
	if err != nil {
		return "", 0, badReply(v)
	}
	number = f[0]
	if typ == 145 && number != "" && !strings.HasPrefix(number, "+") {
		number = "+" + number
	}
	return number, typ, nil
}
