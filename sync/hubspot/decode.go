package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// errAnswer is an answer that is JSON but not of the shape documented.
var errAnswer = errors.New("hubspot: unexpected answer")

// record is a CRM record as the v3 objects and search endpoints answer
// it. Property values are strings, or null when unset.
type record struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	CreatedAt  time.Time          `json:"createdAt"`
	UpdatedAt  time.Time          `json:"updatedAt"`
	Archived   bool               `json:"archived"`
}

// prop returns property k, or "".
func (r *record) prop(k string) string {
	if v := r.Properties[k]; v != nil {
		return *v
	}
	return ""
}

// page is an answer of the CRM search
// (https://developers.hubspot.com/docs/api-reference/search/guide).
type page struct {
	Total   int      `json:"total"`
	Results []record `json:"results"`
	Paging  *struct {
		Next *struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

// next returns the after value of the next page, or "".
func (p *page) next() string {
	if p.Paging == nil || p.Paging.Next == nil {
		return ""
	}
	return p.Paging.Next.After
}

// batch is an answer of a v3 batch read: 200, or 207 when some ids were
// not found (those are left out of Results).
type batch struct {
	Status  string   `json:"status"`
	Results []record `json:"results"`
}

// assocPage is an answer of GET /crm/v4/objects/{type}/{id}/associations/{toType}.
type assocPage struct {
	Results []assocTo `json:"results"`
	Paging  *struct {
		Next *struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

// assocTo is one associated record. HubSpot writes toObjectId as a
// number.
type assocTo struct {
	ToObjectID json.Number `json:"toObjectId"`
}

// assocBatch is an answer of POST /crm/v4/associations/{from}/{to}/batch/read.
type assocBatch struct {
	Results []struct {
		From struct {
			ID string `json:"id"`
		} `json:"from"`
		To []assocTo `json:"to"`
	} `json:"results"`
}

// account is the answer of GET /account-info/v3/details.
type account struct {
	PortalID int64  `json:"portalId"`
	UIDomain string `json:"uiDomain"`
}

// uploaded is the answer of POST /files/v3/files.
type uploaded struct {
	ID string `json:"id"`
}

// validID reports whether s looks like a HubSpot record id: decimal
// digits.
func validID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func decode(body []byte, v any, what string) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %s: %v", errAnswer, what, err)
	}
	return nil
}

// decodeRecord reads a single record answer.
func decodeRecord(body []byte) (record, error) {
	var r record
	if err := decode(body, &r, "record"); err != nil {
		return record{}, err
	}
	if !validID(r.ID) {
		return record{}, fmt.Errorf("%w: record id %q", errAnswer, r.ID)
	}
	return r, nil
}

// decodePage reads a search answer. Every record has a valid id, and the
// next page's after value, when there is one, is a number.
func decodePage(body []byte) (page, error) {
	var p page
	if err := decode(body, &p, "search"); err != nil {
		return page{}, err
	}
	for _, r := range p.Results {
		if !validID(r.ID) {
			return page{}, fmt.Errorf("%w: search result id %q", errAnswer, r.ID)
		}
	}
	if a := p.next(); a != "" {
		if n, err := strconv.Atoi(a); err != nil || n < 0 {
			return page{}, fmt.Errorf("%w: paging.next.after %q", errAnswer, a)
		}
	}
	return p, nil
}

// decodeBatch reads a batch read answer.
func decodeBatch(body []byte) (batch, error) {
	var b batch
	if err := decode(body, &b, "batch read"); err != nil {
		return batch{}, err
	}
	for _, r := range b.Results {
		if !validID(r.ID) {
			return batch{}, fmt.Errorf("%w: batch result id %q", errAnswer, r.ID)
		}
	}
	return b, nil
}

// decodeAssocPage reads a page of associations and returns the associated
// ids and the after value of the next page.
func decodeAssocPage(body []byte) ([]string, string, error) {
	var p assocPage
	if err := decode(body, &p, "associations"); err != nil {
		return nil, "", err
	}
	ids := make([]string, 0, len(p.Results))
	for _, a := range p.Results {
		id := a.ToObjectID.String()
		if !validID(id) {
			return nil, "", fmt.Errorf("%w: associated id %q", errAnswer, id)
		}
		ids = append(ids, id)
	}
	after := ""
	if p.Paging != nil && p.Paging.Next != nil {
		after = p.Paging.Next.After
	}
	return ids, after, nil
}

// decodeAssocBatch reads a batch of associations: the associated ids by
// the id they are associated from.
func decodeAssocBatch(body []byte) (map[string][]string, error) {
	var b assocBatch
	if err := decode(body, &b, "associations batch"); err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(b.Results))
	for _, r := range b.Results {
		if !validID(r.From.ID) {
			return nil, fmt.Errorf("%w: association from id %q", errAnswer, r.From.ID)
		}
		for _, to := range r.To {
			id := to.ToObjectID.String()
			if !validID(id) {
				return nil, fmt.Errorf("%w: associated id %q", errAnswer, id)
			}
			out[r.From.ID] = append(out[r.From.ID], id)
		}
	}
	return out, nil
}

// decodeAccount reads the account details.
func decodeAccount(body []byte) (account, error) {
	var a account
	if err := decode(body, &a, "account details"); err != nil {
		return account{}, err
	}
	if a.PortalID <= 0 {
		return account{}, fmt.Errorf("%w: portalId %d", errAnswer, a.PortalID)
	}
	if strings.ContainsAny(a.UIDomain, "/?#@ ") {
		return account{}, fmt.Errorf("%w: uiDomain %q", errAnswer, a.UIDomain)
	}
	return a, nil
}

// decodeUpload reads the answer of a file upload.
func decodeUpload(body []byte) (string, error) {
	var u uploaded
	if err := decode(body, &u, "file upload"); err != nil {
		return "", err
	}
	if !validID(u.ID) {
		return "", fmt.Errorf("%w: file id %q", errAnswer, u.ID)
	}
	return u.ID, nil
}

// parseTime reads a date-time property value: ISO 8601 as HubSpot
// answers, or unix milliseconds as hs_timestamp may be written.
func parseTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// millis writes t as the unix milliseconds HubSpot's filters and
// hs_timestamp take.
func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
