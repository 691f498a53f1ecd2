package ui

import (
	"bytes"
	"mime"
	"strconv"
	"testing"

	"github.com/counterdesk/counterdesk/ticket"
)

func TestAttachment(t *testing.T) {
	f := newFixture(t)
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	cr := f.create(f.agent, map[string]any{
		"body":        "Photo of the broken undercarriage",
		"attachments": []map[string]any{{"name": "Fahrwerk \"kaputt\" ü.jpg", "content_type": "image/jpeg", "data": b64(data)}},
	})
	var th ticket.Thread
	f.do("GET", "/api/v1/tickets/"+strconv.FormatUint(cr.Ticket.Number, 10), f.agent, nil).decode(t, &th)
	if len(th.Messages) != 1 || len(th.Messages[0].Attachments) != 1 {
		t.Fatalf("thread = %+v", th)
	}
	att := th.Messages[0].Attachments[0]
	if att.Size != 1000 || att.ContentType != "image/jpeg" {
		t.Errorf("attachment = %+v", att)
	}
	path := "/api/v1/attachments/" + att.ID

	r := f.do("GET", path, f.agent, nil)
	r.wantStatus(t, 200)
	if !bytes.Equal(r.body, data) {
		t.Fatalf("body is %d bytes, not the file", len(r.body))
	}
	for h, want := range map[string]string{
		"Content-Type":           "image/jpeg",
		"Content-Length":         "1000",
		"Accept-Ranges":          "bytes",
		"X-Content-Type-Options": "nosniff",
		"ETag":                   `"` + att.ID + `"`,
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	cd := r.header.Get("Content-Disposition")
	disp, params, err := mime.ParseMediaType(cd)
	if err != nil || disp != "attachment" || params["filename"] != "Fahrwerk \"kaputt\" ü.jpg" {
		// mime decodes filename* into filename when both are present.
		t.Errorf("Content-Disposition %q = %q %v %v", cd, disp, params, err)
	}
	if want := `attachment; filename="Fahrwerk _kaputt_ _.jpg"; filename*=UTF-8''Fahrwerk%20%22kaputt%22%20%C3%BC.jpg`; cd != want {
		t.Errorf("Content-Disposition = %s, want %s", cd, want)
	}

	for _, tc := range []struct {
		rng  string
		from int
		to   int // exclusive
		crng string
	}{
		{"bytes=10-19", 10, 20, "bytes 10-19/1000"},
		{"bytes=990-", 990, 1000, "bytes 990-999/1000"},
		{"bytes=-5", 995, 1000, "bytes 995-999/1000"},
		{"bytes=0-0", 0, 1, "bytes 0-0/1000"},
		{"bytes=900-5000", 900, 1000, "bytes 900-999/1000"},
	} {
		r := f.do("GET", path, f.agent, nil, "Range", tc.rng)
		r.wantStatus(t, 206)
		if !bytes.Equal(r.body, data[tc.from:tc.to]) {
			t.Errorf("%s: got %d bytes, not bytes %d-%d", tc.rng, len(r.body), tc.from, tc.to-1)
		}
		if got := r.header.Get("Content-Range"); got != tc.crng {
			t.Errorf("%s: Content-Range = %q, want %q", tc.rng, got, tc.crng)
		}
		if got := r.header.Get("Content-Length"); got != strconv.Itoa(tc.to-tc.from) {
			t.Errorf("%s: Content-Length = %q", tc.rng, got)
		}
	}

	for _, rng := range []string{"bytes=1000-", "bytes=5000-6000", "bytes=-0"} {
		r := f.do("GET", path, f.agent, nil, "Range", rng)
		r.wantError(t, 416, "range_not_satisfiable")
		if got := r.header.Get("Content-Range"); got != "bytes */1000" {
			t.Errorf("%s: Content-Range = %q", rng, got)
		}
		if r.header.Get("Content-Disposition") != "" {
			t.Errorf("%s: error answer offered as a download", rng)
		}
	}

	// Ranges the server ignores give the whole file.
	for _, hdr := range [][]string{
		{"Range", "bytes=0-1,5-6"},
		{"Range", "bytes=9-3"},
		{"Range", "lines=1-2"},
		{"Range", "bytes=0-9", "If-Range", `"another-version"`},
		{"Range", "bytes=0-9", "If-Range", "Wed, 21 Oct 2015 07:28:00 GMT"},
	} {
		r := f.do("GET", path, f.agent, nil, hdr...)
		r.wantStatus(t, 200)
		if !bytes.Equal(r.body, data) {
			t.Errorf("%v: not the whole file", hdr)
		}
	}
	r = f.do("GET", path, f.agent, nil, "Range", "bytes=0-9", "If-Range", `"`+att.ID+`"`)
	r.wantStatus(t, 206)

	r = f.do("HEAD", path, f.agent, nil, "Range", "bytes=0-9")
	r.wantStatus(t, 200) // Range is defined for GET only (RFC 9110 section 14.2)
	if len(r.body) != 0 || r.header.Get("Content-Length") != "1000" {
		t.Errorf("HEAD: %d bytes of body, Content-Length %q", len(r.body), r.header.Get("Content-Length"))
	}

	f.do("GET", path, "", nil).wantError(t, 401, "unauthorized")
	f.do("GET", "/api/v1/attachments/"+string(bytes.Repeat([]byte("ab"), 32)), f.agent, nil).wantError(t, 404, "not_found")
	f.do("GET", "/api/v1/attachments/..%2f..%2fcounterdesk.db", f.agent, nil).wantError(t, 404, "not_found")
}

func TestReplyAttachment(t *testing.T) {
	f := newFixture(t)
	f.create(f.agent, map[string]any{"body": "manual please", "contact": map[string]any{"email": "a@example.com"}})
	r := f.do("POST", "/api/v1/tickets/1001/replies", f.agent, map[string]any{
		"body":        "Here it is.",
		"attachments": []map[string]any{{"name": "manual.pdf", "content_type": "application/pdf", "data": b64([]byte("%PDF-1.4 tiny"))}},
	})
	r.wantStatus(t, 201)
	var mr messageResponse
	r.decode(t, &mr)
	if len(mr.Message.Attachments) != 1 {
		t.Fatalf("reply = %+v", mr.Message)
	}
	r = f.do("GET", "/api/v1/attachments/"+mr.Message.Attachments[0].ID, f.agent, nil)
	r.wantStatus(t, 200)
	if string(r.body) != "%PDF-1.4 tiny" || r.header.Get("Content-Type") != "application/pdf" {
		t.Errorf("got %q as %s", r.body, r.header.Get("Content-Type"))
	}
}

func TestContentDisposition(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"report.pdf", `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`},
		{"", `attachment; filename="attachment"; filename*=UTF-8''attachment`},
		{"a;b%c.txt", `attachment; filename="a_b_c.txt"; filename*=UTF-8''a%3Bb%25c.txt`},
		{"日本.txt", `attachment; filename="__.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt`},
		{"back\\slash\r\n.txt", `attachment; filename="back_slash__.txt"; filename*=UTF-8''back%5Cslash%0D%0A.txt`},
	} {
		if got := contentDisposition(tc.name); got != tc.want {
			t.Errorf("contentDisposition(%q) = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestSafeContentType(t *testing.T) {
	for in, want := range map[string]string{
		"image/png":                 "image/png",
		"text/plain; charset=utf-8": "text/plain; charset=utf-8",
		"":                          "application/octet-stream",
		"not a type":                "application/octet-stream",
		"text/html\r\nX-Evil: 1":    "application/octet-stream",
	} {
		if got := safeContentType(in); got != want {
			t.Errorf("safeContentType(%q) = %q, want %q", in, got, want)
		}
	}
}
