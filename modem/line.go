// Package modem drives a GSM modem over AT commands (3GPP TS 27.007 and
// 27.005, ITU-T V.250): one command at a time, with its final result
// parsed into typed errors and the modem's unsolicited lines kept apart.
package modem

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
)

// MaxLine bounds one line from the modem. A +CMGL line with a PDU of 176
// octets is 352 hex digits; vendor lists (+CLAC) run to a few kilobytes.
const MaxLine = 8 << 10

// LineReader splits the modem's byte stream into lines. Lines end in CR,
// LF or CR LF (modems differ, and echo ends in a lone CR); empty lines are
// skipped. The "> " prompt of AT+CMGS has no line end and is returned as
// the line ">".
type LineReader struct {
	r       *bufio.Reader
	buf     []byte
	dropped bool
}

// NewLineReader returns a LineReader over r.
func NewLineReader(r io.Reader) *LineReader {
	return &LineReader{r: bufio.NewReaderSize(r, 4096)}
}

// Next returns the next non-empty line without its line end. A line longer
// than MaxLine is dropped and reported once as ErrLineTooLong; reading goes
// on after it.
func (l *LineReader) Next() (string, error) {
	for {
		b, err := l.r.ReadByte()
		if err != nil {
			if len(l.buf) > 0 && !l.dropped {
				line := string(l.buf)
				l.buf = l.buf[:0]
				return line, nil
			}
			return "", err
		}
		switch {
		case b == '\r' || b == '\n':
			if l.dropped {
				l.dropped = false
				l.buf = l.buf[:0]
				continue
			}
			if len(bytes.TrimSpace(l.buf)) == 0 {
				l.buf = l.buf[:0]
				continue
			}
			line := string(l.buf)
			l.buf = l.buf[:0]
			return line, nil
		case b == '>' && len(l.buf) == 0 && !l.dropped:
			// The prompt: '>' and usually a space, then nothing until
			// the PDU is sent.
			if next, err := l.r.Peek(1); err == nil && next[0] == ' ' {
				l.r.ReadByte()
			}
			return ">", nil
		case l.dropped:
			continue
		case len(l.buf) >= MaxLine:
			l.dropped = true
			l.buf = l.buf[:0]
			return "", ErrLineTooLong
		default:
			l.buf = append(l.buf, b)
		}
	}
}

// Final reports whether line is a final result code (V.250 section 5.7.1,
// TS 27.007 section 9.2, TS 27.005 section 3.2.5) and the error it means:
// nil for OK, a *CMEError, *CMSError, *CallResult or ErrError otherwise.
func Final(line string) (bool, error) {
	s := strings.TrimSpace(line)
	switch s {
	case "OK":
		return true, nil
	case "ERROR":
		return true, ErrError
	case "NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE":
		return true, &CallResult{Result: s}
	}
	if rest, ok := strings.CutPrefix(s, "+CME ERROR:"); ok {
		code, text := errorDetail(rest)
		return true, &CMEError{Code: code, Text: text}
	}
	if rest, ok := strings.CutPrefix(s, "+CMS ERROR:"); ok {
		code, text := errorDetail(rest)
		return true, &CMSError{Code: code, Text: text}
	}
	return false, nil
}

// errorDetail reads the code or text of a +CME/+CMS ERROR, which is a
// number with AT+CMEE=1 and a text with AT+CMEE=2.
func errorDetail(s string) (int, string) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return n, cmeText(n)
	}
	return -1, strings.Trim(s, `"`)
}

// cmeText names the common +CME/+CMS codes a shop owner will meet.
func cmeText(code int) string {
	switch code {
	case 3:
		return "operation not allowed"
	case 4:
		return "operation not supported"
	case 10:
		return "SIM not inserted"
	case 11:
		return "SIM PIN required"
	case 12:
		return "SIM PUK required"
	case 13:
		return "SIM failure"
	case 14:
		return "SIM busy"
	case 16:
		return "incorrect password"
	case 30:
		return "no network service"
	case 310:
		return "SIM not inserted"
	case 311:
		return "SIM PIN required"
	case 313:
		return "SIM failure"
	case 314:
		return "SIM busy"
	case 321:
		return "invalid memory index"
	case 322:
		return "memory full"
	case 330:
		return "SMSC address unknown"
	case 331:
		return "no network service"
	case 332:
		return "network timeout"
	case 500:
		return "unknown error"
	}
	return ""
}

// URC is an unsolicited result code: a line the modem sends on its own,
// such as a new message (+CMTI), a call (RING, +CLIP) or vendor noise
// (^RSSI, ^BOOT). For +CMT and +CDS the PDU line that follows is in Data.
type URC struct {
	Name  string // "+CMTI", "RING", "^RSSI" ...
	Value string // what follows "NAME:" (trimmed), or ""
	Data  string // the second line of a two-line URC (+CMT, +CDS)
}

// urcNames lists the unsolicited codes the engine knows (TS 27.007 and
// 27.005, and the vendor ones of Huawei, Quectel and SIMCom modems).
var urcNames = []string{
	"+CMTI", "+CMT", "+CDSI", "+CDS", "+CBM", "+CLIP", "+CRING", "RING", "+CREG", "+CGREG", "+CEREG",
	"+CUSD", "+CIEV", "+CCWA", "+CPIN", "+QIND", "+QUSIM", "+CPMS", "+CFUN",
	"^BOOT", "^RSSI", "^HCSQ", "^MODE", "^SRVST", "^SIMST", "^SYSSTART", "^STIN", "^DSFLOWRPT", "^CEND", "^ORIG", "^CONF", "^CONN",
	"RDY", "Call Ready", "SMS Ready", "PB DONE", "+PBREADY", "NO CARRIER",
}

// twoLine are the URCs whose PDU follows on the next line (TS 27.005
// section 3.4.1: +CMT and +CDS in PDU mode).
var twoLine = map[string]bool{"+CMT": true, "+CDS": true, "+CBM": true}

// parseURC reports whether line is an unsolicited code and splits it. The
// same prefix can be a command's own response (AT+CREG? answers +CREG:):
// the engine asks only when no command expecting that prefix runs.
func parseURC(line string) (URC, bool) {
	s := strings.TrimSpace(line)
	for _, name := range urcNames {
		rest, ok := strings.CutPrefix(s, name)
		if !ok {
			continue
		}
		switch {
		case rest == "":
			return URC{Name: name}, true
		case rest[0] == ':':
			return URC{Name: name, Value: strings.TrimSpace(rest[1:])}, true
		}
	}
	return URC{}, false
}

// prefixOf returns the response prefix a command's answer lines carry:
// "+CREG" for "AT+CREG?", "+CMGR" for "AT+CMGR=3", "" for others.
func prefixOf(cmd string) string {
	s := strings.TrimPrefix(strings.ToUpper(cmd), "AT")
	if !strings.HasPrefix(s, "+") && !strings.HasPrefix(s, "^") {
		return ""
	}
	end := strings.IndexAny(s, "=?")
	if end < 0 {
		end = len(s)
	}
	return s[:end]
}
