package stream

import (
	"errors"
	"math/rand/v2"
	"net"
	"testing"
)

// TestListenRange takes every even port of a small range, then checks that
// one more is refused with ErrPortsExhausted.
func TestListenRange(t *testing.T) {
	lo := local()
	for _, tt := range []struct {
		name   string
		lo, hi int // relative to a free even base port
		ports  int // even ports in the range
	}{
		{"even bounds", 0, 4, 3},
		{"odd bounds", -1, 5, 3},
		{"one port", 0, 0, 1},
		{"one port in an odd range", -1, 1, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base, conns := freeBase(t, lo)
			for _, c := range conns {
				c.Close()
			}
			seen := map[int]bool{}
			for range tt.ports {
				c, err := ListenRange(lo, base+tt.lo, base+tt.hi)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				port := c.LocalAddr().(*net.UDPAddr).Port
				if port%2 != 0 || port < base+tt.lo || port > base+tt.hi || seen[port] {
					t.Fatalf("port %d in %d-%d (taken: %v)", port, base+tt.lo, base+tt.hi, seen)
				}
				seen[port] = true
			}
			if c, err := ListenRange(lo, base+tt.lo, base+tt.hi); !errors.Is(err, ErrPortsExhausted) {
				if c != nil {
					c.Close()
				}
				t.Fatalf("range exhausted: %v, want ErrPortsExhausted", err)
			}
		})
	}
}

func TestListenRangeErrors(t *testing.T) {
	for _, tt := range []struct {
		name      string
		ip        net.IP
		lo, hi    int
		exhausted bool
	}{
		{"port 0", nil, 0, 10, false},
		{"above 65535", nil, 65530, 65536, false},
		{"reversed", nil, 40010, 40000, false},
		{"no even port", nil, 40001, 40001, true},
		{"address not on this machine", net.ParseIP("192.0.2.1"), 40000, 40100, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ListenRange(tt.ip, tt.lo, tt.hi)
			if err == nil {
				c.Close()
				t.Fatal("no error")
			}
			if tt.exhausted != errors.Is(err, ErrPortsExhausted) {
				t.Fatalf("error %v", err)
			}
		})
	}
}

func local() net.IP { return net.IPv4(127, 0, 0, 1) }

// freeBase finds an even port p such that p-1 to p+5 are free on ip, and
// returns it with the sockets that prove it.
func freeBase(t *testing.T, ip net.IP) (int, []*net.UDPConn) {
	t.Helper()
	for range 100 {
		base := 20000 + 2*rand.IntN(20000)
		var conns []*net.UDPConn
		ok := true
		for p := base - 1; p <= base+5; p++ {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: p})
			if err != nil {
				ok = false
				break
			}
			conns = append(conns, c)
		}
		if ok {
			return base, conns
		}
		for _, c := range conns {
			c.Close()
		}
	}
	t.Fatal("no free port range found")
	return 0, nil
}
