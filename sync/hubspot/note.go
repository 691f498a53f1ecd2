package hubspot

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

// Marker starts the first line of every note the box writes: the line
// that says who wrote the message. Messages takes it off again, so that
// it returns the text Post was given.
const Marker = "[counterdesk]"

// MaxUpload bounds the size of one attachment the target uploads; a
// larger file is named in the note instead.
const MaxUpload = 50 << 20

// Post adds message m to ticket id as a note (POST /crm/v3/objects/notes,
// https://developers.hubspot.com/docs/api-reference/crm-notes-v3/guide)
// associated with the ticket (type 228, note to ticket), its attachments
// uploaded first and referenced by hs_attachment_ids. HubSpot's tickets
// have no public comment: what the customer wrote and what the shop
// answered are notes as well as internal ones, each headed by who wrote
// it.
func (t *Target) Post(ctx context.Context, id string, tk *sync.Ticket, m *sync.Message) (string, error) {
	if !validID(id) {
		return "", ticket.Permanent(fmt.Errorf("hubspot: post to ticket %s: %q is not a HubSpot ticket id", tk.Ref(), id))
	}
	note, err := t.note(ctx, id, tk, m, false)
	if err != nil {
		return "", fmt.Errorf("hubspot: post message %d to ticket %s (%s): %w", m.ID, tk.Ref(), id, err)
	}
	return note, nil
}

// note uploads m's files and makes a note of m, associated with ticket id
// unless id is "". With attachments set it is the note of the first
// message's attachments only.
func (t *Target) note(ctx context.Context, id string, tk *sync.Ticket, m *sync.Message, attachments bool) (string, error) {
	var fileIDs, skipped []string
	for _, f := range m.Files {
		fid, err := t.upload(ctx, f)
		if err == errTooLarge {
			skipped = append(skipped, f.Name)
			continue
		}
		if err != nil {
			return "", err
		}
		fileIDs = append(fileIDs, fid)
	}
	text := m.Text()
	label := label(m)
	if attachments {
		label = fmt.Sprintf("Attachments of the first message (%s)", m.Channel)
		names := make([]string, 0, len(m.Files))
		for _, f := range m.Files {
			names = append(names, f.Name)
		}
		text = strings.Join(names, "\n")
	}
	if len(skipped) > 0 {
		text += "\n\nNot uploaded (larger than " + fmt.Sprint(MaxUpload>>20) + " MB, kept on the box): " + strings.Join(skipped, ", ")
	}
	at := m.At
	if at.IsZero() {
		at = t.now()
	}
	in := objectInput{Properties: map[string]string{
		"hs_note_body": noteHTML(label, text),
		"hs_timestamp": millis(at),
	}}
	if len(fileIDs) > 0 {
		in.Properties["hs_attachment_ids"] = strings.Join(fileIDs, ";")
	}
	if id != "" {
		in.Associations = []association{associate(id, typeNoteToTicket)}
	}
	resp, err := t.do(ctx, sync.Request{Method: http.MethodPost, Path: "/crm/v3/objects/notes", JSON: in})
	if err != nil {
		return "", fmt.Errorf("create note: %w", err)
	}
	r, err := decodeRecord(resp.Body)
	if err != nil {
		return "", ticket.Permanent(fmt.Errorf("create note: %w", err))
	}
	return r.ID, nil
}

// label says who wrote m, for the first line of its note.
func label(m *sync.Message) string {
	who := strings.Join(strings.Fields(m.Author), " ")
	var s string
	switch m.Direction {
	case ticket.Incoming:
		s = fmt.Sprintf("Customer message (%s)", m.Channel)
		if who != "" {
			s += " from " + who
		}
	case ticket.Outgoing:
		s = fmt.Sprintf("Reply sent to the customer (%s)", m.Channel)
		if who != "" {
			s += " by " + who
		}
	default:
		s = "Internal note"
		if who != "" {
			s += " by " + who
		}
	}
	for _, f := range m.Flags {
		s += " [" + strings.Join(strings.Fields(f), " ") + "]"
	}
	return s
}

// noteHTML writes a note's body: the marker and label in bold, then the
// text, its line breaks kept as <br>. hs_note_body is rich text.
func noteHTML(label, text string) string {
	text = clip(strings.ReplaceAll(text, "\r\n", "\n"))
	return "<p><strong>" + html.EscapeString(Marker+" "+label) + "</strong></p><p>" +
		strings.ReplaceAll(html.EscapeString(text), "\n", "<br>") + "</p>"
}

// htmlText returns the text of a rich text value: <br> and the end of a
// paragraph or block become line breaks, other tags go, and entities are
// decoded. Raw line breaks are white space in HTML and are dropped.
func htmlText(s string) string {
	var b strings.Builder
	for s != "" {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			i = len(s)
		}
		text := strings.NewReplacer("\r", "", "\n", "").Replace(s[:i])
		b.WriteString(html.UnescapeString(text))
		s = s[i:]
		if s == "" {
			break
		}
		j := strings.IndexByte(s, '>')
		if j < 0 {
			break // an unclosed tag: drop the rest
		}
		tag := strings.ToLower(strings.TrimSpace(strings.Trim(s[1:j], "/ ")))
		if k := strings.IndexAny(tag, " \t\n/"); k >= 0 {
			tag = tag[:k]
		}
		closing := strings.HasPrefix(s, "</")
		switch {
		case tag == "br":
			b.WriteByte('\n')
		case closing && (tag == "p" || tag == "div" || tag == "li" || tag == "tr" || tag == "h1" || tag == "h2" || tag == "h3"):
			b.WriteByte('\n')
		}
		s = s[j+1:]
	}
	return strings.TrimRight(b.String(), "\n")
}

// noteText returns the text of a note's body and whether the box wrote
// it: the box's notes lose their first line, the marker and label.
func noteText(body string) (string, bool) {
	text := htmlText(body)
	if !strings.HasPrefix(text, Marker) {
		return text, false
	}
	_, rest, _ := strings.Cut(text, "\n")
	return rest, true
}

// Messages lists the notes of ticket id, oldest first: the ids associated
// with the ticket (GET /crm/v4/objects/tickets/{id}/associations/notes,
// https://developers.hubspot.com/docs/api-reference/legacy/crm/associations/associate-records/guide#retrieve-associated-records)
// then the notes themselves (POST /crm/v3/objects/notes/batch/read). Both
// read the record store, not the search index, so that a note made a
// moment ago is listed. Notes are internal in HubSpot: none is public,
// and a note counts as an agent's when it has an owner and is not the
// box's.
func (t *Target) Messages(ctx context.Context, id string) ([]sync.RemoteMessage, error) {
	if !validID(id) {
		return nil, ticket.Permanent(fmt.Errorf("hubspot: notes of ticket %q: not a HubSpot ticket id", id))
	}
	ids, err := t.associated(ctx, id, "notes")
	if err != nil {
		return nil, fmt.Errorf("hubspot: notes of ticket %s: %w", id, err)
	}
	notes, err := t.read(ctx, "notes", ids, []string{"hs_note_body", "hs_timestamp", "hubspot_owner_id"})
	if err != nil {
		return nil, fmt.Errorf("hubspot: notes of ticket %s: %w", id, err)
	}
	out := make([]sync.RemoteMessage, 0, len(notes))
	for _, n := range notes {
		body, ours := noteText(n.prop("hs_note_body"))
		at, ok := parseTime(n.prop("hs_timestamp"))
		if !ok {
			at = n.CreatedAt
		}
		owner := n.prop("hubspot_owner_id")
		author := "counterdesk"
		if !ours {
			author = "HubSpot user"
			if owner != "" {
				author = "HubSpot owner " + owner
			}
		}
		out = append(out, sync.RemoteMessage{ID: n.ID, Body: body, Agent: !ours && owner != "", Author: author, At: at})
	}
	slices.SortStableFunc(out, func(a, b sync.RemoteMessage) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return len(a.ID) - len(b.ID)
	})
	return out, nil
}

// maxAssociations bounds the associations Messages reads of one ticket.
const maxAssociations = 5000

// associated returns the ids of the records of type to associated with
// ticket id, in pages of 500.
func (t *Target) associated(ctx context.Context, id, to string) ([]string, error) {
	var ids []string
	after := ""
	for len(ids) < maxAssociations {
		q := url.Values{"limit": {"500"}}
		if after != "" {
			q.Set("after", after)
		}
		resp, err := t.do(ctx, sync.Request{Method: http.MethodGet, Path: "/crm/v4/objects/tickets/" + id + "/associations/" + to, Query: q})
		if err != nil {
			return nil, err
		}
		page, next, err := decodeAssocPage(resp.Body)
		if err != nil {
			return nil, ticket.Permanent(err)
		}
		ids = append(ids, page...)
		if next == "" || next == after {
			break
		}
		after = next
	}
	return ids, nil
}

// read returns the records of kind with ids, in batches of 100
// (POST /crm/v3/objects/{kind}/batch/read,
// https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/tickets/guide#retrieve-tickets).
// Ids HubSpot no longer holds are left out.
func (t *Target) read(ctx context.Context, kind string, ids []string, props []string) ([]record, error) {
	var out []record
	for start := 0; start < len(ids); start += 100 {
		chunk := ids[start:min(start+100, len(ids))]
		inputs := make([]map[string]string, len(chunk))
		for i, id := range chunk {
			inputs[i] = map[string]string{"id": id}
		}
		resp, err := t.do(ctx, sync.Request{
			Method: http.MethodPost,
			Path:   "/crm/v3/objects/" + kind + "/batch/read",
			JSON:   map[string]any{"properties": props, "inputs": inputs},
		})
		if err != nil {
			return nil, err
		}
		b, err := decodeBatch(resp.Body)
		if err != nil {
			return nil, ticket.Permanent(err)
		}
		out = append(out, b.Results...)
	}
	return out, nil
}

// errTooLarge is a file above MaxUpload.
var errTooLarge = fmt.Errorf("hubspot: file larger than %d bytes", MaxUpload)

// upload sends f to the file manager (POST /files/v3/files,
// https://developers.hubspot.com/docs/api-reference/files-files-v3/guide):
// a multipart form with the file, the folder path, and options whose
// access is PRIVATE, so that only signed-in users open it. It returns the
// file's id.
func (t *Target) upload(ctx context.Context, f sync.File) (string, error) {
	fh, err := os.Open(f.Path)
	if err != nil {
		return "", ticket.Permanent(fmt.Errorf("attachment %s: %w", f.Name, err))
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxUpload+1))
	if err != nil {
		return "", fmt.Errorf("attachment %s: %w", f.Name, err)
	}
	if len(data) > MaxUpload {
		return "", errTooLarge
	}
	name := f.Name
	if name == "" {
		name = "attachment"
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, quoteEscaper.Replace(name)))
	ctype := f.Type
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	part, err := w.CreatePart(h)
	if err != nil {
		return "", err
	}
	part.Write(data)
	for _, kv := range [][2]string{
		{"fileName", name},
		{"folderPath", FolderPath},
		{"options", `{"access":"PRIVATE"}`},
	} {
		if err := w.WriteField(kv[0], kv[1]); err != nil {
			return "", err
		}
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	resp, err := t.do(ctx, sync.Request{
		Method: http.MethodPost, Path: "/files/v3/files",
		Body: body.Bytes(), ContentType: w.FormDataContentType(),
	})
	if err != nil {
		return "", fmt.Errorf("upload %s: %w", f.Name, err)
	}
	id, err := decodeUpload(resp.Body)
	if err != nil {
		return "", ticket.Permanent(fmt.Errorf("upload %s: %w", f.Name, err))
	}
	return id, nil
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "")
