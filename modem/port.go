package modem

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tarm/serial"
)

// ErrHungUp means the serial device stopped delivering data: the modem
// was unplugged or reset.
var ErrHungUp = errors.New("modem: serial port hung up")

// ErrNoModem means "auto" found no known modem under /dev/serial/by-id.
var ErrNoModem = errors.New("modem: no known modem found under /dev/serial/by-id")

// DefaultBaud is the line speed for USB modems, which ignore it, and for
// UART boards such as the SIM800, which need it.
const DefaultBaud = 115200

// byIDDir is where udev names serial devices by their USB identity.
const byIDDir = "/dev/serial/by-id"

// knownPorts names the AT command interface of the usual modems, as udev
// names it under /dev/serial/by-id. A modem shows several interfaces; only
// one of them answers AT commands with unsolicited codes.
var knownPorts = []struct {
	model, contains, iface string
}{
	{"Quectel EC25", "Quectel", "-if02-"},
	{"SIMCom SIM7600", "SimTech", "-if02-"},
	{"SIMCom SIM7600", "SIMCOM", "-if02-"},
	{"Huawei E3372 (serial mode)", "HUAWEI", "-if00-"},
	{"Huawei modem", "Huawei", "-if00-"},
	{"SIM800 board on a CH340 adapter", "1a86", ""},
	{"SIM800 board on a CP210x adapter", "Silicon_Labs_CP210", ""},
	{"SIM800 board on an FTDI adapter", "FTDI", ""},
}

// FindModem returns the device path of the first known modem under dir
// (normally /dev/serial/by-id) and the model it looks like.
func FindModem(dir string) (path, model string, err error) {
	if dir == "" {
		dir = byIDDir
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", "", fmt.Errorf("modem: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, k := range knownPorts {
		for _, n := range names {
			if strings.Contains(n, k.contains) && strings.Contains(n, k.iface) {
				return filepath.Join(dir, n), k.model, nil
			}
		}
	}
	return "", "", ErrNoModem
}

// readWake is how often a read on the port returns to look whether the
// port was closed: a blocked read would otherwise keep Close waiting until
// the modem next speaks.
const readWake = 200 * time.Millisecond

// OpenPort opens the serial device at path (8N1, no flow control) at the
// given speed.
func OpenPort(path string, baud int) (io.ReadWriteCloser, error) {
	if baud <= 0 {
		baud = DefaultBaud
	}
	p, err := serial.OpenPort(&serial.Config{Name: path, Baud: baud, ReadTimeout: readWake})
	if err != nil {
		return nil, fmt.Errorf("modem: open %s: %w", path, err)
	}
	return &port{p: p}, nil
}

// port is a serial port whose reads wait for data, not for the read
// timeout: a timeout with no data (an empty read) is read again, until the
// port is closed.
type port struct {
	p      *serial.Port
	closed atomic.Bool
}

func (s *port) Read(b []byte) (int, error) {
	fast := 0
	for {
		start := time.Now()
		n, err := s.p.Read(b)
		if s.closed.Load() && n == 0 {
			return 0, io.EOF
		}
		if n > 0 || (err != nil && !errors.Is(err, io.EOF)) {
			return n, err
		}
		// An empty read after the read timeout means the modem was quiet.
		// Empty reads that come back at once, again and again, mean the
		// device hung up: the modem was unplugged.
		if time.Since(start) < readWake/4 {
			if fast++; fast >= 3 {
				return 0, ErrHungUp
			}
		} else {
			fast = 0
		}
	}
}

func (s *port) Write(b []byte) (int, error) { return s.p.Write(b) }

func (s *port) Close() error {
	s.closed.Store(true)
	return s.p.Close()
}
