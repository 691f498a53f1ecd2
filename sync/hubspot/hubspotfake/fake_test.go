package hubspotfake

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const token = "pat-na1-test"

func call(t *testing.T, srv *httptest.Server, method, path, ctype, auth string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var v map[string]any
	json.Unmarshal(data, &v)
	return resp.StatusCode, v
}

// TestChecks drives the fake with requests HubSpot refuses and checks the
// status and error body of each.
func TestChecks(t *testing.T) {
	s := New(token)
	srv := httptest.NewServer(s)
	defer srv.Close()
	bearer := "Bearer " + token
	ticket := `{"properties":{"subject":"s","hs_pipeline":"0","hs_pipeline_stage":"1","counterdesk_id":"u1"}}`
	status, v := call(t, srv, "POST", "/crm/v3/objects/tickets", "application/json", bearer, []byte(ticket))
	if status != 201 {
		t.Fatalf("create: %d %v", status, v)
	}
	id := v["id"].(string)

	for _, c := range []struct {
		name, method, path, ctype, auth, body string
		status                                int
		category                              string
	}{
		{"no token", "GET", "/crm/v3/objects/tickets", "", "", "", 401, "INVALID_AUTHENTICATION"},
		{"wrong token", "GET", "/crm/v3/objects/tickets", "", "Bearer nope", "", 401, "INVALID_AUTHENTICATION"},
		{"basic auth", "GET", "/crm/v3/objects/tickets", "", "Basic " + token, "", 401, "INVALID_AUTHENTICATION"},
		{"form body", "POST", "/crm/v3/objects/tickets", "application/x-www-form-urlencoded", bearer, ticket, 415, "VALIDATION_ERROR"},
		{"unknown path", "GET", "/crm/v3/objects/widgets/1", "", bearer, "", 404, "OBJECT_NOT_FOUND"},
		{"wrong method", "DELETE", "/crm/v3/objects/tickets/" + id, "", bearer, "", 405, "VALIDATION_ERROR"},
		{"missing ticket", "GET", "/crm/v3/objects/tickets/1", "", bearer, "", 404, "OBJECT_NOT_FOUND"},
		{"no subject", "POST", "/crm/v3/objects/tickets", "application/json", bearer, `{"properties":{"hs_pipeline_stage":"1"}}`, 400, "VALIDATION_ERROR"},
		{"bad stage", "POST", "/crm/v3/objects/tickets", "application/json", bearer, `{"properties":{"subject":"s","hs_pipeline_stage":"9"}}`, 400, "VALIDATION_ERROR"},
		{"bad priority", "PATCH", "/crm/v3/objects/tickets/" + id, "application/json", bearer, `{"properties":{"hs_ticket_priority":"CRITICAL"}}`, 400, "VALIDATION_ERROR"},
		{"unknown property", "PATCH", "/crm/v3/objects/tickets/" + id, "application/json", bearer, `{"properties":{"tags":"a"}}`, 400, "VALIDATION_ERROR"},
		{"duplicate id", "POST", "/crm/v3/objects/tickets", "application/json", bearer, ticket, 409, "CONFLICT"},
		{"note without timestamp", "POST", "/crm/v3/objects/notes", "application/json", bearer, `{"properties":{"hs_note_body":"x"}}`, 400, "VALIDATION_ERROR"},
		{"note with a wrong association type", "POST", "/crm/v3/objects/notes", "application/json", bearer,
			`{"properties":{"hs_timestamp":"1700000000000"},"associations":[{"to":{"id":"` + id + `"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":227}]}]}`, 400, "VALIDATION_ERROR"},
		{"note with a missing file", "POST", "/crm/v3/objects/notes", "application/json", bearer, `{"properties":{"hs_timestamp":"1700000000000","hs_attachment_ids":"42"}}`, 400, "VALIDATION_ERROR"},
		{"search page too large", "POST", "/crm/v3/objects/tickets/search", "application/json", bearer, `{"limit":201}`, 400, "VALIDATION_ERROR"},
		{"search beyond 10000", "POST", "/crm/v3/objects/tickets/search", "application/json", bearer, `{"limit":200,"after":"9900"}`, 400, "VALIDATION_ERROR"},
		{"search bad operator", "POST", "/crm/v3/objects/tickets/search", "application/json", bearer, `{"filterGroups":[{"filters":[{"propertyName":"x","operator":"LIKE","value":"1"}]}]}`, 400, "VALIDATION_ERROR"},
		{"upload as JSON", "POST", "/files/v3/files", "application/json", bearer, `{}`, 415, "VALIDATION_ERROR"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, v := call(t, srv, c.method, c.path, c.ctype, c.auth, []byte(c.body))
			if status != c.status || v["category"] != c.category || v["status"] != "error" || v["message"] == "" || v["correlationId"] == "" {
				t.Errorf("%d %v; want %d %s", status, v, c.status, c.category)
			}
			if strings.Contains(v["message"].(string), token) {
				t.Error("the token is echoed")
			}
		})
	}
}

func TestUploadChecks(t *testing.T) {
	s := New(token)
	srv := httptest.NewServer(s)
	defer srv.Close()
	form := func(fields map[string]string, file bool) (string, []byte) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		if file {
			p, _ := w.CreateFormFile("file", "v.wav")
			p.Write([]byte("RIFF"))
		}
		for k, v := range fields {
			w.WriteField(k, v)
		}
		w.Close()
		return w.FormDataContentType(), b.Bytes()
	}
	for _, c := range []struct {
		name   string
		fields map[string]string
		file   bool
		status int
	}{
		{"ok", map[string]string{"folderPath": "/x", "options": `{"access":"PRIVATE"}`}, true, 201},
		{"no file", map[string]string{"folderPath": "/x", "options": `{"access":"PRIVATE"}`}, false, 400},
		{"no folder", map[string]string{"options": `{"access":"PRIVATE"}`}, true, 400},
		{"both folders", map[string]string{"folderPath": "/x", "folderId": "1", "options": `{"access":"PRIVATE"}`}, true, 400},
		{"no access", map[string]string{"folderPath": "/x", "options": `{}`}, true, 400},
		{"no options", map[string]string{"folderPath": "/x"}, true, 400},
	} {
		ct, body := form(c.fields, c.file)
		status, v := call(t, srv, "POST", "/files/v3/files", ct, "Bearer "+token, body)
		if status != c.status {
			t.Errorf("%s: %d %v, want %d", c.name, status, v, c.status)
		}
	}
	if s.Files() != 1 {
		t.Errorf("%d files stored, want 1", s.Files())
	}
}
