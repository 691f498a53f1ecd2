package modem

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
)

func TestFindModem(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{
		"usb-Quectel_EC25_0123-if00-port0", "usb-Quectel_EC25_0123-if01-port0",
		"usb-Quectel_EC25_0123-if02-port0", "usb-Quectel_EC25_0123-if03-port0",
		"usb-1a86_USB2.0-Serial-if00-port0",
	} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	path, model, err := FindModem(dir)
	if err != nil || filepath.Base(path) != "usb-Quectel_EC25_0123-if02-port0" || model != "Quectel EC25" {
		t.Errorf("FindModem = %s %s %v", path, model, err)
	}
	if _, _, err := FindModem(filepath.Join(dir, "missing")); err != ErrNoModem {
		t.Errorf("no devices: %v", err)
	}
}

// TestOpenPortOnPseudoTerminal opens a pseudo-terminal as the modem's
// serial port through tarm/serial and talks AT over it.
func TestOpenPortOnPseudoTerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	defer ptmx.Close()
	// The slave stays open until the port is: with no slave open, reads
	// on the master fail.
	defer tty.Close()
	name := tty.Name()
	go func() {
		r := bufio.NewReader(ptmx)
		for {
			line, err := r.ReadString('\r')
			if err != nil {
				return
			}
			if strings.TrimSpace(line) == "AT+CGMI" {
				ptmx.WriteString("\r\nQuectel\r\n\r\nOK\r\n")
			} else {
				ptmx.WriteString("\r\nOK\r\n")
			}
		}
	}()
	port, err := OpenPort(name, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	e := NewEngine(port, EngineOptions{})
	lines, err := e.Command(context.Background(), "AT+CGMI", 0)
	if err != nil || len(lines) != 1 || lines[0] != "Quectel" {
		t.Fatalf("AT+CGMI over the pty = %q, %v", lines, err)
	}
}
