package zendeskfake

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"
	"time"
)

const (
	email = "api@shop.example"
	token = "fake-token-123"
)

type call struct {
	method, path, ctype, auth, body string
	header                          map[string]string
}

// do sends c to the fake and returns the status and the decoded answer.
func do(t *testing.T, srv *httptest.Server, c call) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	switch c.auth {
	case "":
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(email+"/token:"+token)))
	case "none":
	default:
		req.Header.Set("Authorization", c.auth)
	}
	if c.ctype != "" {
		req.Header.Set("Content-Type", c.ctype)
	} else if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out, resp.Header
}

func start(t *testing.T) (*Server, *httptest.Server) {
	fake := New(email, token)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, srv
}

func TestRefusals(t *testing.T) {
	fake, srv := start(t)
	code, _, _ := do(t, srv, call{method: "POST", path: "/api/v2/tickets.json", body: `{"ticket":{"comment":{"body":"hi"}}}`})
	if code != http.StatusCreated {
		t.Fatalf("valid create: %d", code)
	}
	if err := fake.SetStatus(1, "closed"); err != nil {
		t.Fatal(err)
	}
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name string
		call call
		code int
		err  string // the error property of the answer
		text string // in the answer
	}{
		{"no credentials", call{method: "GET", path: "/api/v2/users/me", auth: "none"}, 401, "Couldn't authenticate you", ""},
		{"password form", call{method: "GET", path: "/api/v2/users/me", auth: basic(email + ":" + token)}, 401, "Couldn't authenticate you", ""},
		{"wrong token", call{method: "GET", path: "/api/v2/users/me", auth: basic(email + "/token:nope")}, 401, "Couldn't authenticate you", ""},
		{"wrong bearer", call{method: "GET", path: "/api/v2/users/me", auth: "Bearer nope"}, 401, "Couldn't authenticate you", ""},
		{"unknown path", call{method: "GET", path: "/api/v2/widgets"}, 404, "InvalidEndpoint", ""},
		{"wrong method", call{method: "DELETE", path: "/api/v2/tickets/1"}, 404, "InvalidEndpoint", ""},
		{"unknown ticket", call{method: "GET", path: "/api/v2/tickets/99"}, 404, "RecordNotFound", ""},
		{"form body", call{method: "POST", path: "/api/v2/tickets", ctype: "application/x-www-form-urlencoded", body: "ticket=1"}, 415, "UnsupportedMediaType", ""},
		{"broken json", call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":`}, 400, "InvalidJSON", ""},
		{"no ticket", call{method: "POST", path: "/api/v2/tickets", body: `{"tiket":{}}`}, 400, "ParameterMissing", ""},
		{"no comment", call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"subject":"x"}}`}, 422, "RecordInvalid", "Description: cannot be blank"},
		{"capitalised body", call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"comment":{"Body":"x"}}}`}, 422, "RecordInvalid", "Description: cannot be blank"},
		{"bad priority", call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"priority":"critical","comment":{"body":"x"}}}`}, 422, "RecordInvalid", "Priority"},
		{"bad status", call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"status":"resolved","comment":{"body":"x"}}}`}, 422, "RecordInvalid", "Status"},
		{"created closed", call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"status":"closed","comment":{"body":"x"}}}`}, 422, "RecordInvalid", "closed"},
		{"unknown upload", call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"comment":{"body":"x","uploads":["nope"]}}}`}, 422, "RecordInvalid", "token nope"},
		{"requester without email", call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"requester":{"name":"Ada"},"comment":{"body":"x"}}}`}, 422, "RecordInvalid", "Requester"},
		{"unknown requester id", call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"requester_id":42,"comment":{"body":"x"}}}`}, 422, "RecordInvalid", "Requester"},
		{"unknown author", call{method: "PUT", path: "/api/v2/tickets/1", body: `{"ticket":{"comment":{"body":"x","author_id":42}}}`}, 422, "RecordInvalid", ""},
		{"closed ticket", call{method: "PUT", path: "/api/v2/tickets/1", body: `{"ticket":{"comment":{"body":"x"}}}`}, 422, "RecordInvalid", "Status: closed prevents ticket update"},
		{"closed tags", call{method: "PUT", path: "/api/v2/tickets/1/tags", body: `{"tags":["a"]}`}, 422, "RecordInvalid", "closed prevents"},
		{"upload without name", call{method: "POST", path: "/api/v2/uploads", ctype: "audio/wav", body: "RIFF"}, 400, "InvalidValue", "filename"},
		{"upload without type", call{method: "POST", path: "/api/v2/uploads?filename=a.wav", ctype: "nonsense", body: "RIFF"}, 415, "UnsupportedMediaType", ""},
		{"empty upload", call{method: "POST", path: "/api/v2/uploads?filename=a.wav", ctype: "audio/wav"}, 422, "RecordInvalid", "empty"},
		{"user without name", call{method: "POST", path: "/api/v2/users", body: `{"user":{"phone":"+447700900123"}}`}, 422, "RecordInvalid", "Name"},
		{"user bad phone", call{method: "POST", path: "/api/v2/users", body: `{"user":{"name":"A","phone":"0770 090"}}`}, 422, "RecordInvalid", "Phone"},
		{"export without start", call{method: "GET", path: "/api/v2/incremental/tickets/cursor"}, 400, "InvalidValue", ""},
		{"export too recent", call{method: "GET", path: "/api/v2/incremental/tickets/cursor?start_time=" + strconv.FormatInt(time.Now().Unix(), 10)}, 422, "InvalidValue", "Too recent start_time"},
		{"comments page too big", call{method: "GET", path: "/api/v2/tickets/1/comments?page[size]=101"}, 400, "InvalidPaginationParameter", ""},
		{"comments bad cursor", call{method: "GET", path: "/api/v2/tickets/1/comments?page[after]=notacursor"}, 400, "InvalidPaginationParameter", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := do(t, srv, tt.call)
			if code != tt.code || out["error"] != tt.err {
				t.Fatalf("%d %v, want %d %q", code, out, tt.code, tt.err)
			}
			if b, _ := json.Marshal(out); !strings.Contains(string(b), tt.text) {
				t.Fatalf("answer %s lacks %q", b, tt.text)
			}
		})
	}
	if n := len(fake.Tickets()); n != 1 {
		t.Fatalf("refused requests made tickets: %d", n)
	}
}

func TestIdempotencyKey(t *testing.T) {
	fake, srv := start(t)
	body := `{"ticket":{"external_id":"u-1","comment":{"body":"hi"}}}`
	key := map[string]string{"Idempotency-Key": "u-1"}
	code, first, h := do(t, srv, call{method: "POST", path: "/api/v2/tickets", body: body, header: key})
	if code != 201 || h.Get("x-idempotency-lookup") != "miss" {
		t.Fatalf("first: %d %s", code, h.Get("x-idempotency-lookup"))
	}
	code, again, h := do(t, srv, call{method: "POST", path: "/api/v2/tickets", body: body, header: key})
	if code != 201 || h.Get("x-idempotency-lookup") != "hit" {
		t.Fatalf("again: %d %s", code, h.Get("x-idempotency-lookup"))
	}
	id := func(m map[string]any) any { return m["ticket"].(map[string]any)["id"] }
	if id(first) != id(again) {
		t.Fatalf("ids %v %v", id(first), id(again))
	}
	code, out, _ := do(t, srv, call{method: "POST", path: "/api/v2/tickets", body: strings.Replace(body, "hi", "ho", 1), header: key})
	if code != 400 || out["error"] != "IdempotentRequestError" {
		t.Fatalf("other body: %d %v", code, out)
	}
	if made, replayed := fake.Creations(); made != 1 || replayed != 1 {
		t.Fatalf("made %d replayed %d", made, replayed)
	}
	// After two hours the key is forgotten.
	fake.Now = func() time.Time { return time.Now().Add(IdempotencyTTL + time.Minute) }
	code, _, h = do(t, srv, call{method: "POST", path: "/api/v2/tickets", body: body, header: key})
	if code != 201 || h.Get("x-idempotency-lookup") != "miss" || len(fake.TicketsByExternalID("u-1")) != 2 {
		t.Fatalf("after the key expired: %d %s", code, h.Get("x-idempotency-lookup"))
	}
}

func TestUploadFlow(t *testing.T) {
	fake, srv := start(t)
	code, out, _ := do(t, srv, call{method: "POST", path: "/api/v2/uploads?filename=voicemail.wav", ctype: "audio/wav", body: "RIFF....WAVE"})
	if code != 201 {
		t.Fatalf("upload: %d %v", code, out)
	}
	tok := out["upload"].(map[string]any)["token"].(string)
	code, out, _ = do(t, srv, call{method: "POST", path: "/api/v2/uploads?filename=photo.jpg&token=" + tok, ctype: "image/jpeg", body: "\xff\xd8\xff"})
	if code != 201 || len(out["upload"].(map[string]any)["attachments"].([]any)) != 2 {
		t.Fatalf("second upload: %d %v", code, out)
	}
	code, _, _ = do(t, srv, call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"comment":{"body":"see files","uploads":["` + tok + `"]}}}`})
	if code != 201 {
		t.Fatalf("create: %d", code)
	}
	cs := fake.Comments(1)
	if len(cs) != 1 || len(cs[0].Attachments) != 2 || cs[0].Attachments[0].ContentType != "audio/wav" || cs[0].Attachments[1].Size != 3 {
		t.Fatalf("comments = %+v", cs)
	}
	// A token is used once.
	code, out, _ = do(t, srv, call{method: "PUT", path: "/api/v2/tickets/1", body: `{"ticket":{"comment":{"body":"again","uploads":["` + tok + `"]}}}`})
	if code != 422 {
		t.Fatalf("token used twice: %d %v", code, out)
	}
}

func TestExport(t *testing.T) {
	fake, srv := start(t)
	now := time.Now()
	fake.Now = func() time.Time { return now }
	for i := range 3 {
		do(t, srv, call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"external_id":"e` + strconv.Itoa(i) + `","comment":{"body":"x"}}}`})
	}
	fake.Reply(1, "staff")
	since := strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)
	code, out, _ := do(t, srv, call{method: "GET", path: "/api/v2/incremental/tickets/cursor?start_time=" + since})
	if code != 200 || out["end_of_stream"] != true {
		t.Fatalf("export: %d %v", code, out)
	}
	ids := []float64{}
	for _, tk := range out["tickets"].([]any) {
		ids = append(ids, tk.(map[string]any)["id"].(float64))
	}
	if len(ids) != 3 || ids[2] != 1 {
		t.Fatalf("ids %v: each ticket once, in the order of its latest change", ids)
	}
	cur := out["after_cursor"].(string)
	code, out, _ = do(t, srv, call{method: "GET", path: "/api/v2/incremental/tickets/cursor?cursor=" + cur})
	if code != 200 || len(out["tickets"].([]any)) != 0 || out["after_cursor"] != cur {
		t.Fatalf("nothing new: %d %v", code, out)
	}
	fake.SetStatus(2, "pending")
	_, out, _ = do(t, srv, call{method: "GET", path: "/api/v2/incremental/tickets/cursor?cursor=" + cur})
	if tks := out["tickets"].([]any); len(tks) != 1 || tks[0].(map[string]any)["status"] != "pending" {
		t.Fatalf("after a change: %v", out)
	}
	// The latest minute is left out when ExportLag says so.
	lagged, lsrv := start(t)
	lagged.ExportLag = time.Minute
	do(t, lsrv, call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"comment":{"body":"x"}}}`})
	_, out, _ = do(t, lsrv, call{method: "GET", path: "/api/v2/incremental/tickets/cursor?start_time=" + since})
	if len(out["tickets"].([]any)) != 0 {
		t.Fatalf("a change of the latest minute was exported: %v", out)
	}
}

func TestConcurrentRequests(t *testing.T) {
	fake, srv := start(t)
	var wg stdsync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			do(t, srv, call{method: "POST", path: "/api/v2/tickets", body: `{"ticket":{"external_id":"c` + strconv.Itoa(i) + `","comment":{"body":"x"}}}`})
			do(t, srv, call{method: "GET", path: "/api/v2/tickets?external_id=c" + strconv.Itoa(i)})
			fake.Reply(int64(i%5+1), "reply")
			fake.Tickets()
		})
	}
	wg.Wait()
	if n := len(fake.Tickets()); n != 50 {
		t.Fatalf("%d tickets, want 50", n)
	}
}

func BenchmarkCreateAndFind(b *testing.B) {
	fake := New(email, token)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(email+"/token:"+token))
	client := srv.Client()
	send := func(method, path, body string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ext := "bench-" + strconv.Itoa(i)
		send("POST", "/api/v2/tickets", `{"ticket":{"external_id":"`+ext+`","comment":{"body":"x"}}}`)
		send("GET", "/api/v2/tickets?external_id="+ext, "")
	}
}
