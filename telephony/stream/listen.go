package stream

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"syscall"
)

// ListenRange binds a UDP socket on ip (nil or unspecified for every
// address) on a free even port in [lo, hi]: RFC 3550 section 11 puts RTP on
// an even port and RTCP on the odd one above it, which this package does
// not use. The search starts at a random even port of the range and wraps
// around, so that consecutive calls spread over the range without state
// shared between them, and a port a call just released is seldom the next
// one taken. It fails with ErrPortsExhausted when every even port is in
// use, and at once on any other error (an address that is not local, a
// privileged port).
func ListenRange(ip net.IP, lo, hi int) (*net.UDPConn, error) {
	if lo < 1 || hi > 65535 || lo > hi {
		return nil, fmt.Errorf("stream: listen: port range %d-%d is not within 1-65535", lo, hi)
	}
	first := lo + lo&1
	if first > hi {
		return nil, fmt.Errorf("stream: listen: port range %d-%d has no even port: %w", lo, hi, ErrPortsExhausted)
	}
	n := (hi-first)/2 + 1
	off := rand.IntN(n)
	for i := range n {
		port := first + 2*((off+i)%n)
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("stream: listen: %w", err)
		}
	}
	return nil, fmt.Errorf("stream: listen on %v ports %d-%d: %w", ip, lo, hi, ErrPortsExhausted)
}
