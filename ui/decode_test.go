package ui

import (
	"errors"
	"net/http"
	"testing"
)

func TestDecodeBody(t *testing.T) {
	type small struct {
		A string `json:"a"`
		N int    `json:"n"`
	}
	for _, tc := range []struct {
		body, field string
		ok          bool
	}{
		{`{"a":"x","n":1}`, "", true},
		{" {\"a\":\"x\"} \n\t", "", true},
		{`{}`, "", true},
		{`{"a":"x","b":1}`, "b", false},
		{`{"n":"1"}`, "n", false},
		{`{"n":1.5}`, "n", false},
		{`{"a":"x"}x`, "", false},
		{`{"a":"x"}{}`, "", false},
		{`null`, "", true}, // a JSON null leaves every field unset
		{`"a"`, "", false},
		{`[]`, "", false},
		{`{"a":`, "", false},
		{``, "", false},
		{`   `, "", false},
		{`{"a":"x",}`, "", false},
	} {
		var v small
		err := decodeBody([]byte(tc.body), &v)
		if tc.ok != (err == nil) {
			t.Errorf("decodeBody(%q) = %v", tc.body, err)
			continue
		}
		if err == nil {
			continue
		}
		var ae *apiError
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != codeBadRequest || ae.Field != tc.field {
			t.Errorf("decodeBody(%q) = %#v, want a 400 naming field %q", tc.body, err, tc.field)
		}
	}
}

var createSeeds = []string{
	`{"subject":"Servo","body":"jitter","contact":{"name":"Ada","phone":"07700 900123","email":"ada@example.com"}}`,
	`{"body":"x","channel":"staff","priority":"urgent","tags":["a","b"]}`,
	`{"body":"x","attachments":[{"name":"a.txt","content_type":"text/plain","data":"aGVsbG8="}]}`,
	`{"body":"x","attachments":[{"name":"a.txt","data":"aGVsbG8"}]}`,
	`{"body":"x","channel":"sms"}`,
	`{"body":"x","colour":"red"}`,
	`{"body":"x"} trailing`,
	`{"body":"\u0000"}`,
	`{"contact":{"phone":"+1"}}`,
	`{"body":"x","tags":["ÜBER"]}`,
	`{"body":"x","attachments":[{"name":"../../etc/passwd","data":"eA=="}]}`,
	`null`,
	`[]`,
	``,
}

// FuzzCreateBody checks that decoding a create-ticket body never panics
// and that every rejection is an input error.
func FuzzCreateBody(f *testing.F) {
	for _, s := range createSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req createRequest
		if err := decodeBody(body, &req); err != nil {
			wantInputError(t, err)
			return
		}
		if _, _, err := req.inbound(); err != nil {
			wantInputError(t, err)
		}
	})
}

func wantInputError(t *testing.T, err error) {
	var ae *apiError
	if !errors.As(err, &ae) || ae.Status < 400 || ae.Status >= 500 || ae.Message == "" {
		t.Fatalf("error %#v is not an input error", err)
	}
}

// FuzzCreateTicket sends any body to POST /api/v1/tickets: the server
// never fails, and a rejected request stores nothing.
func FuzzCreateTicket(f *testing.F) {
	for _, s := range createSeeds {
		f.Add([]byte(s))
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		before, err := fx.desk.Count()
		if err != nil {
			t.Fatal(err)
		}
		r := fx.with(t).do("POST", "/api/v1/tickets", fx.agent, body)
		after, err := fx.desk.Count()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case r.status == http.StatusCreated:
			if after != before+1 {
				t.Fatalf("201 but %d tickets were added", after-before)
			}
		case r.status >= 400 && r.status < 500:
			var b errorBody
			r.decode(t, &b)
			if b.Error.Code == "" {
				t.Fatalf("error answer without a code: %s", r.body)
			}
			if after != before {
				t.Fatalf("rejected with %d, but %d tickets were added: %s", r.status, after-before, r.body)
			}
		default:
			t.Fatalf("status %d for %q: %s", r.status, body, r.body)
		}
	})
}
