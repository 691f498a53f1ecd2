package freshdesk

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"os"
	"strings"

	"github.com/counterdesk/counterdesk/sync"
)

// MaxAttachBytes is what one request attaches at most: Freshdesk refuses
// more than 20 MB of attachments on a ticket. Files that do not fit are
// named in the message instead.
const MaxAttachBytes = 20 << 20

// field is one form field of a multipart request.
type field struct{ name, value string }

// fit returns the files that fit in MaxAttachBytes together, in order,
// and the names of those that do not.
func fit(files []sync.File) (attach []sync.File, skipped []string) {
	var total int64
	for _, f := range files {
		if f.Size < 0 || total+f.Size > MaxAttachBytes {
			skipped = append(skipped, f.Name)
			continue
		}
		total += f.Size
		attach = append(attach, f)
	}
	return attach, skipped
}

// skippedLine returns the line that names the files left out, or "".
func skippedLine(skipped []string) string {
	if len(skipped) == 0 {
		return ""
	}
	return "\n\n" + skippedPrefix + strings.Join(skipped, ", ") + ")"
}

// form encodes fields and files as multipart/form-data, each file as a
// part named "attachments[]" (API v2, "Attachments"). It returns the
// body and its Content-Type.
func form(fields []field, files []sync.File) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := w.WriteField(f.name, f.value); err != nil {
			return nil, "", err
		}
	}
	for _, f := range files {
		if err := attach(w, f); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// attach copies one file into the form, at most the size the box
// recorded for it.
func attach(w *multipart.Writer, f sync.File) error {
	in, err := os.Open(f.Path)
	if err != nil {
		return fmt.Errorf("attachment %s: %w", f.Name, err)
	}
	defer in.Close()
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="attachments[]"; filename="%s"`, quoteName(f.Name)))
	ctype := f.Type
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	part, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(part, io.LimitReader(in, MaxAttachBytes)); err != nil {
		return fmt.Errorf("attachment %s: %w", f.Name, err)
	}
	return nil
}

// quoteName makes a file name safe inside a quoted header parameter.
func quoteName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	s = strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
	if s == "" {
		s = "attachment"
	}
	return s
}
