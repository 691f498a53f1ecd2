package freshdeskfake

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

const key = "k3y"

func do(t *testing.T, srv *httptest.Server, method, path, ctype, body string, auth bool) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth {
		req.SetBasicAuth(key, "X")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const okTicket = `{"subject":"s","description":"d","email":"a@example.com","status":2,"priority":1,"source":3,"custom_fields":{"cf_counterdesk_id":"u-1"}}`

func TestChecks(t *testing.T) {
	f := New(key)
	srv := httptest.NewServer(f)
	defer srv.Close()
	for _, c := range []struct {
		name                string
		method, path, ctype string
		body                string
		noAuth              bool
		status              int
		text                string
	}{
		{"no auth", "GET", "/api/v2/agents/me", "", "", true, 401, "invalid_credentials"},
		{"me", "GET", "/api/v2/agents/me", "", "", false, 200, `"id":1001`},
		{"unknown path", "GET", "/api/v2/nothing", "", "", false, 404, ""},
		{"wrong method", "DELETE", "/api/v2/tickets", "", "", false, 405, "GET, POST"},
		{"xml", "POST", "/api/v2/tickets", "application/xml", "<t/>", false, 415, "invalid_content_type"},
		{"bad json", "POST", "/api/v2/tickets", "application/json", "{", false, 400, "invalid_json"},
		{"no requester", "POST", "/api/v2/tickets", "application/json", `{"subject":"s","description":"d"}`, false, 400, "requester_id"},
		{"no subject", "POST", "/api/v2/tickets", "application/json", `{"description":"d","email":"a@example.com"}`, false, 400, `"field":"subject"`},
		{"phone without name", "POST", "/api/v2/tickets", "application/json", `{"subject":"s","description":"d","phone":"+1"}`, false, 400, `"field":"name"`},
		{"bad status", "POST", "/api/v2/tickets", "application/json", `{"subject":"s","description":"d","email":"a@example.com","status":9}`, false, 400, "2,3,4,5"},
		{"status as text", "POST", "/api/v2/tickets", "application/json", `{"subject":"s","description":"d","email":"a@example.com","status":"2"}`, false, 400, "datatype_mismatch"},
		{"bad source", "POST", "/api/v2/tickets", "application/json", `{"subject":"s","description":"d","email":"a@example.com","source":4}`, false, 400, "1,2,3,7,9,10"},
		{"unknown field", "POST", "/api/v2/tickets", "application/json", `{"subject":"s","description":"d","email":"a@example.com","urgency":1}`, false, 400, `"field":"urgency"`},
		{"unknown custom field", "POST", "/api/v2/tickets", "application/json", `{"subject":"s","description":"d","email":"a@example.com","custom_fields":{"cf_x":"1"}}`, false, 400, `"field":"cf_x"`},
		{"attachments in json", "POST", "/api/v2/tickets", "application/json", `{"subject":"s","description":"d","email":"a@example.com","attachments":[]}`, false, 400, "attachments"},
		{"create", "POST", "/api/v2/tickets", "application/json", okTicket, false, 201, `"cf_counterdesk_id":"u-1"`},
		{"missing ticket", "GET", "/api/v2/tickets/999", "", "", false, 404, ""},
		{"note without body", "POST", "/api/v2/tickets/1/notes", "application/json", `{"private":false}`, false, 400, `"field":"body"`},
		{"note private as text", "POST", "/api/v2/tickets/1/notes", "application/json", `{"body":"b","private":"false"}`, false, 400, "datatype_mismatch"},
		{"note", "POST", "/api/v2/tickets/1/notes", "application/json", `{"body":"b","private":false,"incoming":true}`, false, 201, `"incoming":true`},
		{"per_page too big", "GET", "/api/v2/tickets/1/conversations?per_page=101", "", "", false, 400, "per_page"},
		{"bad order_by", "GET", "/api/v2/tickets?order_by=id", "", "", false, 400, "order_by"},
		{"bad updated_since", "GET", "/api/v2/tickets?updated_since=yesterday", "", "", false, 400, "updated_since"},
		{"query without quotes", "GET", "/api/v2/search/tickets?query=" + url.QueryEscape("cf_counterdesk_id:'u-1'"), "", "", false, 400, "double quotes"},
		{"query unknown field", "GET", "/api/v2/search/tickets?query=" + url.QueryEscape(`"cf_nope:'u-1'"`), "", "", false, 400, "cf_nope"},
		{"query text unquoted", "GET", "/api/v2/search/tickets?query=" + url.QueryEscape(`"cf_counterdesk_id:u-1"`), "", "", false, 400, "single quotes"},
		{"query", "GET", "/api/v2/search/tickets?query=" + url.QueryEscape(`"cf_counterdesk_id:'u-1'"`), "", "", false, 200, `"total":1`},
		{"query status", "GET", "/api/v2/search/tickets?query=" + url.QueryEscape(`"status:2 AND cf_counterdesk_id:'u-1'"`), "", "", false, 200, `"total":1`},
		{"query miss", "GET", "/api/v2/search/tickets?query=" + url.QueryEscape(`"cf_counterdesk_id:'u-2' OR status:5"`), "", "", false, 200, `"total":0`},
		{"update bad priority", "PUT", "/api/v2/tickets/1", "application/json", `{"priority":0}`, false, 400, "1,2,3,4"},
		{"update", "PUT", "/api/v2/tickets/1", "application/json", `{"status":4,"tags":["a"]}`, false, 200, `"status":4`},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := do(t, srv, c.method, c.path, c.ctype, c.body, !c.noAuth)
			if status != c.status || !strings.Contains(body, c.text) {
				t.Fatalf("%d %s, want %d with %q", status, body, c.status, c.text)
			}
		})
	}
	if n := f.CountByField(DefaultField, "u-1"); n != 1 {
		t.Fatalf("%d tickets with u-1", n)
	}
}

func TestMultipart(t *testing.T) {
	f := New(key)
	srv := httptest.NewServer(f)
	defer srv.Close()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, kv := range [][2]string{{"subject", "s"}, {"description", "d"}, {"phone", "+49"}, {"name", "N"}, {"status", "3"}, {"tags[]", "a"}, {"tags[]", "b"}, {"custom_fields[cf_counterdesk_id]", "u-9"}} {
		w.WriteField(kv[0], kv[1])
	}
	fw, _ := w.CreateFormFile("attachments[]", "v.wav")
	fw.Write([]byte("RIFF...."))
	w.Close()
	status, body := do(t, srv, "POST", "/api/v2/tickets", w.FormDataContentType(), buf.String(), true)
	if status != 201 {
		t.Fatalf("%d %s", status, body)
	}
	var got struct {
		Status int      `json:"status"`
		Tags   []string `json:"tags"`
		Atts   []struct {
			Name string `json:"name"`
			Size int    `json:"size"`
		} `json:"attachments"`
	}
	json.Unmarshal([]byte(body), &got)
	if got.Status != 3 || len(got.Tags) != 2 || len(got.Atts) != 1 || got.Atts[0].Name != "v.wav" || got.Atts[0].Size != 8 {
		t.Fatalf("ticket = %+v", got)
	}
	if f.CountByField(DefaultField, "u-9") != 1 {
		t.Fatal("custom field from the form lost")
	}

	// A file under another name is refused.
	buf.Reset()
	w = multipart.NewWriter(&buf)
	w.WriteField("body", "b")
	fw, _ = w.CreateFormFile("file", "x.txt")
	fw.Write([]byte("x"))
	w.Close()
	if status, body := do(t, srv, "POST", "/api/v2/tickets/1/notes", w.FormDataContentType(), buf.String(), true); status != 400 {
		t.Fatalf("%d %s", status, body)
	}
}

func TestConcurrent(t *testing.T) {
	f := New(key)
	srv := httptest.NewServer(f)
	defer srv.Close()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := strings.Replace(okTicket, "u-1", "u-c"+string(rune('a'+i)), 1)
			if status, b := do(t, srv, "POST", "/api/v2/tickets", "application/json", body, true); status != 201 {
				t.Errorf("%d %s", status, b)
			}
			do(t, srv, "GET", "/api/v2/tickets?updated_since=2020-01-01T00:00:00Z", "", "", true)
		}()
	}
	wg.Wait()
	if n := len(f.Tickets()); n != 20 {
		t.Fatalf("%d tickets", n)
	}
}
