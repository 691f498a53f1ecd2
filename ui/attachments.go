package ui

import (
	"fmt"
	"io"
	"mime"
	"os"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// getAttachment streams a stored file, whole or one byte range of it
// (RFC 9110 section 14). The file is always offered as a download, never
// shown inline, whatever type its sender claimed.
func (s *Server) getAttachment(c *fiber.Ctx) error {
	a, path, err := s.desk.Attachment(strings.ToLower(c.Params("id")))
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("attachment %s: %w", a.ID, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("attachment %s: %w", a.ID, err)
	}
	size := fi.Size()
	// The id is the SHA-256 of the content, so it is a strong validator
	// that never changes for this URL.
	etag := `"` + a.ID + `"`
	c.Set(fiber.HeaderAcceptRanges, "bytes")
	c.Set(fiber.HeaderETag, etag)

	part, status := byteRange{start: 0, length: size}, fiber.StatusOK
	// If-Range (section 13.1.5): the range is sent only if the client's
	// copy is this one; a date never matches, as no Last-Modified is sent.
	if h := c.Get(fiber.HeaderRange); h != "" && c.Method() == fiber.MethodGet {
		if ir := c.Get(fiber.HeaderIfRange); ir == "" || ir == etag {
			r, ok, err := parseRange(h, size)
			if err != nil {
				f.Close()
				c.Set(fiber.HeaderContentRange, "bytes */"+strconv.FormatInt(size, 10))
				return &apiError{Status: fiber.StatusRequestedRangeNotSatisfiable, Code: codeRangeNotSatisf,
					Message: fmt.Sprintf("range %q is outside the %d bytes of the file", h, size)}
			}
			if ok {
				part, status = r, fiber.StatusPartialContent
				c.Set(fiber.HeaderContentRange, r.contentRange(size))
			}
		}
	}
	c.Set(fiber.HeaderContentType, safeContentType(a.ContentType))
	c.Set(fiber.HeaderContentDisposition, contentDisposition(a.Name))
	c.Status(status)
	// fasthttp closes the stream once the response is written.
	c.Response().SetBodyStream(&fileSection{SectionReader: io.NewSectionReader(f, part.start, part.length), f: f}, int(part.length))
	return nil
}

// fileSection is a part of an open file that closes the file when done.
type fileSection struct {
	*io.SectionReader
	f *os.File
}

func (s *fileSection) Close() error { return s.f.Close() }

// safeContentType returns ct if it is a well-formed media type, else
// application/octet-stream.
func safeContentType(ct string) string {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fiber.MIMEOctetStream
	}
	if out := mime.FormatMediaType(mt, params); out != "" {
		return out
	}
	return fiber.MIMEOctetStream
}

// contentDisposition offers name as a download (RFC 6266 section 4): a
// plain ASCII filename for old clients and the exact name, UTF-8 and
// percent-encoded, in filename* (RFC 8187 section 3.2).
func contentDisposition(name string) string {
	var plain strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r >= 0x7f, r == '"', r == '\\', r == '/', r == '%', r == ';':
			plain.WriteByte('_')
		default:
			plain.WriteRune(r)
		}
	}
	fallback := strings.TrimSpace(plain.String())
	if fallback == "" {
		fallback = "attachment"
	}
	exact := name
	if exact == "" {
		exact = fallback
	}
	return `attachment; filename="` + fallback + `"; filename*=UTF-8''` + encodeExtValue(exact)
}

// encodeExtValue percent-encodes every byte of s that is not an attr-char
// (RFC 8187 section 3.2.1).
func encodeExtValue(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAttrChar(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
