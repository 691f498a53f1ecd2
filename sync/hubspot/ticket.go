package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

// The HUBSPOT_DEFINED association type ids the target uses
// (https://developers.hubspot.com/docs/api-reference/legacy/crm/associations/associate-records/guide#association-type-id-values).
const (
	typeTicketToContact = 16
	typeTicketToNote    = 227
	typeNoteToTicket    = 228
)

// maxText bounds a text property the target writes: hs_note_body's
// documented limit, applied to the ticket's content too.
const maxText = 65536

// Priorities maps the box's priorities to hs_ticket_priority, whose
// options are LOW, MEDIUM, HIGH and URGENT.
var Priorities = map[ticket.Priority]string{
	ticket.PriorityLow:    "LOW",
	ticket.PriorityNormal: "MEDIUM",
	ticket.PriorityHigh:   "HIGH",
	ticket.PriorityUrgent: "URGENT",
}

// Sources maps the channel of a ticket's first message to source_type,
// whose default options are CHAT, EMAIL, FORM and PHONE. Channels HubSpot
// has no source for leave it unset.
var Sources = map[ticket.Channel]string{
	ticket.ChannelVoicemail:  "PHONE",
	ticket.ChannelMissedCall: "PHONE",
	ticket.ChannelEmail:      "EMAIL",
	ticket.ChannelWebForm:    "FORM",
}

// association is one association of a create request.
type association struct {
	To    associationTo     `json:"to"`
	Types []associationType `json:"types"`
}

type associationTo struct {
	ID string `json:"id"`
}

type associationType struct {
	Category string `json:"associationCategory"`
	TypeID   int    `json:"associationTypeId"`
}

func associate(id string, typeID int) association {
	return association{To: associationTo{ID: id}, Types: []associationType{{Category: "HUBSPOT_DEFINED", TypeID: typeID}}}
}

// objectInput is the body of a create or update request.
type objectInput struct {
	Properties   map[string]string `json:"properties"`
	Associations []association     `json:"associations,omitempty"`
}

// Find looks the ticket up by the box's UUID in the unique id property
// (GET /crm/v3/objects/tickets/{uuid}?idProperty=ID_FIELD,
// https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/tickets/guide#retrieve-tickets).
// A read by a unique property is answered from the record store itself,
// not from the search index, which lags behind a creation by seconds.
func (t *Target) Find(ctx context.Context, tk *sync.Ticket) (string, error) {
	if tk.UUID == "" {
		return "", nil
	}
	resp, err := t.do(ctx, sync.Request{
		Method: http.MethodGet,
		Path:   "/crm/v3/objects/tickets/" + url.PathEscape(tk.UUID),
		Query:  url.Values{"idProperty": {t.idField}, "properties": {t.idField}},
	})
	if sync.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("hubspot: find ticket %s: %w", tk.Ref(), err)
	}
	r, err := decodeRecord(resp.Body)
	if err != nil {
		return "", ticket.Permanent(fmt.Errorf("hubspot: find ticket %s: %w", tk.Ref(), err))
	}
	if v := r.prop(t.idField); v != "" && v != tk.UUID {
		return "", ticket.Permanent(fmt.Errorf("hubspot: find ticket %s: ticket %s holds %s %q", tk.Ref(), r.ID, t.idField, v))
	}
	t.learnPortal(ctx)
	return r.ID, nil
}

// Create makes the ticket (POST /crm/v3/objects/tickets,
// https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/tickets/guide#create-tickets)
// with the first message as its content, associated in the same request
// with the contact found or made by the customer's email address and,
// when the first message has attachments, with a note that holds them:
// the files are uploaded and the note made first, so that the ticket and
// its attachments appear together or not at all. If HubSpot already
// holds a ticket with the box's UUID (409, an earlier attempt got
// through), Create returns that ticket.
func (t *Target) Create(ctx context.Context, tk *sync.Ticket, first *sync.Message) (string, error) {
	t.learnPortal(ctx)
	in := objectInput{Properties: t.ticketProperties(tk)}
	in.Properties["subject"] = subject(tk, first)
	in.Properties[t.idField] = tk.UUID
	if first != nil {
		in.Properties["content"] = clip(first.Text())
		if src, ok := Sources[first.Channel]; ok {
			in.Properties["source_type"] = src
		}
	} else if src, ok := Sources[tk.Channel]; ok {
		in.Properties["source_type"] = src
	}
	contact, err := t.contact(ctx, tk)
	if err != nil {
		return "", fmt.Errorf("hubspot: create ticket %s: %w", tk.Ref(), err)
	}
	if contact != "" {
		in.Associations = append(in.Associations, associate(contact, typeTicketToContact))
	}
	if first != nil && len(first.Files) > 0 {
		note, err := t.note(ctx, "", tk, first, true)
		if err != nil {
			return "", fmt.Errorf("hubspot: create ticket %s: attachments: %w", tk.Ref(), err)
		}
		in.Associations = append(in.Associations, associate(note, typeTicketToNote))
	}
	resp, err := t.do(ctx, sync.Request{Method: http.MethodPost, Path: "/crm/v3/objects/tickets", JSON: in})
	var he *sync.HTTPError
	if errors.As(err, &he) && he.Status == http.StatusConflict {
		// The unique property already holds the UUID.
		id, ferr := t.Find(ctx, tk)
		if ferr != nil {
			return "", fmt.Errorf("hubspot: create ticket %s: %w (and then: %w)", tk.Ref(), err, ferr)
		}
		if id != "" {
			t.remember(id, tk.Status)
			return id, nil
		}
	}
	if err != nil {
		return "", fmt.Errorf("hubspot: create ticket %s: %w", tk.Ref(), err)
	}
	r, err := decodeRecord(resp.Body)
	if err != nil {
		return "", ticket.Permanent(fmt.Errorf("hubspot: create ticket %s: %w", tk.Ref(), err))
	}
	t.remember(r.ID, tk.Status)
	return r.ID, nil
}

// Update sets the ticket's pipeline, stage and priority to tk's
// (PATCH /crm/v3/objects/tickets/{id},
// https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/tickets/guide#update-tickets).
// HubSpot's ticket has no tags; they are not copied.
func (t *Target) Update(ctx context.Context, id string, tk *sync.Ticket) error {
	if !validID(id) {
		return ticket.Permanent(fmt.Errorf("hubspot: update ticket %s: %q is not a HubSpot ticket id", tk.Ref(), id))
	}
	_, err := t.do(ctx, sync.Request{
		Method: http.MethodPatch,
		Path:   "/crm/v3/objects/tickets/" + id,
		JSON:   objectInput{Properties: t.ticketProperties(tk)},
	})
	if err != nil {
		return fmt.Errorf("hubspot: update ticket %s (%s): %w", tk.Ref(), id, err)
	}
	t.remember(id, tk.Status)
	return nil
}

// ticketProperties returns the pipeline, stage and priority of tk.
func (t *Target) ticketProperties(tk *sync.Ticket) map[string]string {
	p := map[string]string{"hs_pipeline": t.pipeline}
	if stage, ok := t.stages[tk.Status]; ok {
		p["hs_pipeline_stage"] = stage
	} else {
		p["hs_pipeline_stage"] = t.stages[ticket.StatusNew]
	}
	if pr, ok := Priorities[tk.Priority]; ok {
		p["hs_ticket_priority"] = pr
	}
	return p
}

// subject returns the ticket's name: its subject, or the channel and the
// box's number when it has none.
func subject(tk *sync.Ticket, first *sync.Message) string {
	if s := strings.TrimSpace(tk.Subject); s != "" {
		return s
	}
	ch := tk.Channel
	if first != nil && ch == "" {
		ch = first.Channel
	}
	if ch == "" {
		return "Request " + tk.Ref()
	}
	return strings.ReplaceAll(string(ch), "_", " ") + " " + tk.Ref()
}

// clip bounds s to maxText characters.
func clip(s string) string {
	r := []rune(s)
	if len(r) <= maxText {
		return s
	}
	const more = "\n[cut: the full text is on the box]"
	return string(r[:maxText-len([]rune(more))]) + more
}

// contact returns the id of the HubSpot contact with the customer's email
// address, made when there is none
// (GET /crm/v3/objects/contacts/{email}?idProperty=email and
// POST /crm/v3/objects/contacts,
// https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/guide),
// or "" when the customer has no address. An address or name HubSpot
// refuses leaves the ticket without a contact rather than stopping its
// copy.
func (t *Target) contact(ctx context.Context, tk *sync.Ticket) (string, error) {
	email := strings.ToLower(strings.TrimSpace(tk.Email()))
	if email == "" {
		return "", nil
	}
	id, err := t.contactByEmail(ctx, email)
	if id != "" || err != nil {
		return id, err
	}
	props := map[string]string{"email": email}
	if first, last := splitName(tk.Contact.Name); first != "" {
		props["firstname"] = first
		if last != "" {
			props["lastname"] = last
		}
	}
	if phone := tk.Phone(); phone != "" {
		props["phone"] = phone
	}
	resp, err := t.do(ctx, sync.Request{Method: http.MethodPost, Path: "/crm/v3/objects/contacts", JSON: objectInput{Properties: props}})
	var he *sync.HTTPError
	switch {
	case errors.As(err, &he) && he.Status == http.StatusConflict:
		// Made meanwhile: read it again.
		return t.contactByEmail(ctx, email)
	case errors.As(err, &he) && he.Status >= 400 && he.Status < 500 && !he.AuthError() && he.Status != http.StatusTooManyRequests:
		return "", nil
	case err != nil:
		return "", fmt.Errorf("contact %s: %w", email, err)
	}
	r, err := decodeRecord(resp.Body)
	if err != nil {
		return "", ticket.Permanent(fmt.Errorf("contact %s: %w", email, err))
	}
	return r.ID, nil
}

func (t *Target) contactByEmail(ctx context.Context, email string) (string, error) {
	resp, err := t.do(ctx, sync.Request{
		Method: http.MethodGet,
		Path:   "/crm/v3/objects/contacts/" + url.PathEscape(email),
		Query:  url.Values{"idProperty": {"email"}, "properties": {"email"}},
	})
	var he *sync.HTTPError
	switch {
	case sync.IsNotFound(err):
		return "", nil
	case errors.As(err, &he) && he.Status == http.StatusBadRequest:
		return "", nil // an address HubSpot cannot look up
	case err != nil:
		return "", fmt.Errorf("contact %s: %w", email, err)
	}
	r, err := decodeRecord(resp.Body)
	if err != nil {
		return "", ticket.Permanent(fmt.Errorf("contact %s: %w", email, err))
	}
	return r.ID, nil
}

// splitName splits a contact's name into first name and last name.
func splitName(name string) (string, string) {
	f := strings.Fields(name)
	switch len(f) {
	case 0:
		return "", ""
	case 1:
		return f[0], ""
	}
	return strings.Join(f[:len(f)-1], " "), f[len(f)-1]
}
