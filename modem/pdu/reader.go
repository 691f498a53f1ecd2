package pdu

import "fmt"

// reader walks through a PDU and turns every short read into a DecodeError
// that names the field and its offset.
type reader struct {
	b   []byte
	off int
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) fail(field string, err error) error {
	return &DecodeError{Offset: r.off, Field: field, Err: err}
}

func (r *reader) byte(field string) (byte, error) {
	if r.off >= len(r.b) {
		return 0, r.fail(field, fmt.Errorf("pdu ends after %d octets: %w", len(r.b), ErrTruncated))
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) take(n int, field string) ([]byte, error) {
	if n > r.left() {
		return nil, r.fail(field, fmt.Errorf("needs %d octets, %d left: %w", n, r.left(), ErrTruncated))
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b, nil
}
