package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

// DefaultMaxData bounds the attachment bytes inlined in one event (before
// base64, which adds a third). Files beyond it are described without
// their data, and the event says so with "data_omitted": true.
const DefaultMaxData = 10 << 20

// attachments reads m's files for an event: in order, each inlined while
// the total stays within budget, the rest with their name, type, size
// and SHA-256 only. It reports whether any data was left out. A file
// that cannot be read is a permanent error: retrying will not bring it
// back.
func attachments(files []sync.File, budget int64) ([]Attachment, bool, error) {
	out := make([]Attachment, 0, len(files))
	omitted := false
	for _, f := range files {
		a, err := readAttachment(f, &budget)
		if err != nil {
			return nil, false, ticket.Permanent(fmt.Errorf("attachment %q: %w", f.Name, err))
		}
		omitted = omitted || a.DataOmitted
		out = append(out, a)
	}
	return out, omitted, nil
}

// readAttachment reads f, inlining its data when it fits in *budget,
// which it lowers by what it inlined.
func readAttachment(f sync.File, budget *int64) (Attachment, error) {
	a := Attachment{Name: f.Name, Type: f.Type}
	if a.Type == "" {
		a.Type = "application/octet-stream"
	}
	fh, err := os.Open(f.Path)
	if err != nil {
		return a, err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return a, err
	}
	if fi.Size() <= *budget {
		// Read at most one byte more than the budget, in case the file
		// grew since Stat.
		data, err := io.ReadAll(io.LimitReader(fh, *budget+1))
		if err != nil {
			return a, err
		}
		if int64(len(data)) <= *budget {
			sum := sha256.Sum256(data)
			a.Data, a.Size, a.SHA256 = data, int64(len(data)), hex.EncodeToString(sum[:])
			if a.Data == nil {
				a.Data = []byte{}
			}
			*budget -= a.Size
			return a, nil
		}
		if _, err := fh.Seek(0, io.SeekStart); err != nil {
			return a, err
		}
	}
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return a, err
	}
	a.Size, a.SHA256, a.DataOmitted = n, hex.EncodeToString(h.Sum(nil)), true
	return a, nil
}
