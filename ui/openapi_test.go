package ui

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/ui/auth"
)

// spec is the OpenAPI document as the tests read it: plain JSON values.
type spec struct {
	root map[string]any
}

func loadSpec(t testing.TB) spec {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(openapiDoc, &root); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return spec{root: root}
}

// resolve follows a local reference, a JSON pointer (RFC 6901) after "#".
func (s spec) resolve(ref string) (any, error) {
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("reference %q is not local", ref)
	}
	var cur any = s.root
	for tok := range strings.SplitSeq(ptr, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[tok]
			if !ok {
				return nil, fmt.Errorf("reference %q: no %q", ref, tok)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("reference %q: no item %q", ref, tok)
			}
			cur = x[i]
		default:
			return nil, fmt.Errorf("reference %q: %q is inside neither an object nor an array", ref, tok)
		}
	}
	return cur, nil
}

// deref returns v, or what it refers to when it is a reference object.
func (s spec) deref(t testing.TB, v any) map[string]any {
	t.Helper()
	for range 10 {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v is not an object", v)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		var err error
		if v, err = s.resolve(ref); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("reference loop at %v", v)
	return nil
}

func (s spec) paths() map[string]any {
	p, _ := s.root["paths"].(map[string]any)
	return p
}

// httpMethods are the operation keys of a path item.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operation returns the operation for method on path, as documented.
func (s spec) operation(t testing.TB, method, path string) map[string]any {
	t.Helper()
	item, ok := s.paths()[path].(map[string]any)
	if !ok {
		t.Fatalf("the document has no path %s", path)
	}
	op, ok := item[strings.ToLower(method)].(map[string]any)
	if !ok {
		t.Fatalf("the document has no %s %s", method, path)
	}
	return op
}

// pathParams returns the names of the path parameters declared for an
// operation, on the path item or on the operation.
func (s spec) pathParams(t testing.TB, item, op map[string]any) []string {
	var out []string
	for _, holder := range []map[string]any{item, op} {
		list, _ := holder["parameters"].([]any)
		for _, p := range list {
			pm := s.deref(t, p)
			if pm["in"] == "path" {
				out = append(out, pm["name"].(string))
			}
		}
	}
	return out
}

// checkSchema walks schema over v, a decoded JSON value, and appends what
// does not fit to errs. It understands what the document uses: $ref,
// oneOf/anyOf, type, const, enum, required, properties,
// additionalProperties, items, min/maxItems, min/maxLength, pattern,
// minimum/maximum and the date-time format. It is stricter than JSON
// Schema in one way: an object schema with properties and no
// additionalProperties must name every member, so that a field renamed
// or added in Go but not in the document is caught.
func (s spec) checkSchema(schema any, v any, at string, errs *[]string) {
	fail := func(format string, args ...any) {
		*errs = append(*errs, at+": "+fmt.Sprintf(format, args...))
	}
	sm, ok := schema.(map[string]any)
	if !ok {
		fail("schema %v is not an object", schema)
		return
	}
	if ref, ok := sm["$ref"].(string); ok {
		target, err := s.resolve(ref)
		if err != nil {
			fail("%v", err)
			return
		}
		s.checkSchema(target, v, at, errs)
		return
	}
	for _, kw := range []string{"oneOf", "anyOf"} {
		if alts, ok := sm[kw].([]any); ok {
			var matched bool
			for _, alt := range alts {
				var sub []string
				s.checkSchema(alt, v, at, &sub)
				if len(sub) == 0 {
					matched = true
					break
				}
			}
			if !matched {
				fail("%s matches none of %s", short(v), kw)
			}
		}
	}
	if typ, ok := sm["type"]; ok {
		var types []string
		switch tt := typ.(type) {
		case string:
			types = []string{tt}
		case []any:
			for _, x := range tt {
				types = append(types, x.(string))
			}
		}
		if !slices.ContainsFunc(types, func(name string) bool { return isJSONType(v, name) }) {
			fail("%s is not %s", short(v), strings.Join(types, " or "))
			return
		}
	}
	if c, ok := sm["const"]; ok && !reflect.DeepEqual(c, v) {
		fail("%s is not %v", short(v), c)
	}
	if enum, ok := sm["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return reflect.DeepEqual(e, v) }) {
		fail("%s is not one of %v", short(v), enum)
	}
	switch x := v.(type) {
	case map[string]any:
		s.checkObject(sm, x, at, errs)
	case []any:
		if n, ok := sm["maxItems"].(float64); ok && float64(len(x)) > n {
			fail("%d items, at most %v documented", len(x), n)
		}
		if n, ok := sm["minItems"].(float64); ok && float64(len(x)) < n {
			fail("%d items, at least %v documented", len(x), n)
		}
		if items, ok := sm["items"]; ok {
			for i, e := range x {
				s.checkSchema(items, e, fmt.Sprintf("%s[%d]", at, i), errs)
			}
		}
	case string:
		n := float64(utf8.RuneCountInString(x))
		if m, ok := sm["maxLength"].(float64); ok && n > m {
			fail("%d characters, at most %v documented", int(n), m)
		}
		if m, ok := sm["minLength"].(float64); ok && n < m {
			fail("%d characters, at least %v documented", int(n), m)
		}
		if p, ok := sm["pattern"].(string); ok {
			re, err := regexp.Compile(p)
			if err != nil {
				fail("pattern %q: %v", p, err)
			} else if !re.MatchString(x) {
				fail("%q does not match %s", x, p)
			}
		}
		if sm["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
				fail("%q is not a date-time", x)
			}
		}
	case float64:
		if m, ok := sm["minimum"].(float64); ok && x < m {
			fail("%v is below the minimum %v", x, m)
		}
		if m, ok := sm["maximum"].(float64); ok && x > m {
			fail("%v is above the maximum %v", x, m)
		}
	}
}

func (s spec) checkObject(sm map[string]any, x map[string]any, at string, errs *[]string) {
	req, _ := sm["required"].([]any)
	for _, r := range req {
		if _, ok := x[r.(string)]; !ok {
			*errs = append(*errs, fmt.Sprintf("%s: required member %q is missing", at, r))
		}
	}
	props, _ := sm["properties"].(map[string]any)
	additional, hasAdditional := sm["additionalProperties"]
	for _, k := range slices.Sorted(maps.Keys(x)) {
		if ps, ok := props[k]; ok {
			s.checkSchema(ps, x[k], at+"."+k, errs)
			continue
		}
		switch a := additional.(type) {
		case map[string]any:
			s.checkSchema(a, x[k], at+"."+k, errs)
		case bool:
			if !a {
				*errs = append(*errs, fmt.Sprintf("%s: member %q is not allowed", at, k))
			}
		default:
			if !hasAdditional && props != nil {
				*errs = append(*errs, fmt.Sprintf("%s: member %q is not in the document", at, k))
			}
		}
	}
}

func isJSONType(v any, name string) bool {
	switch name {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	}
	return false
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}

func TestOpenAPIDocument(t *testing.T) {
	s := loadSpec(t)
	if v, _ := s.root["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	info, _ := s.root["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Errorf("info = %v, want a title and a version", info)
	}
	if servers, _ := s.root["servers"].([]any); len(servers) == 0 {
		t.Error("no servers")
	}
	if len(s.paths()) == 0 {
		t.Error("no paths")
	}
	comps, _ := s.root["components"].(map[string]any)
	for _, k := range []string{"schemas", "securitySchemes", "parameters", "responses"} {
		if _, ok := comps[k].(map[string]any); !ok {
			t.Errorf("components has no %s", k)
		}
	}
	bearer := s.deref(t, map[string]any{"$ref": "#/components/securitySchemes/bearerAuth"})
	if bearer["type"] != "http" || bearer["scheme"] != "bearer" {
		t.Errorf("bearerAuth = %v", bearer)
	}

	// The enums and limits are the code's.
	enum := func(ref string) []string {
		var out []string
		for _, e := range s.deref(t, map[string]any{"$ref": ref})["enum"].([]any) {
			out = append(out, e.(string))
		}
		return out
	}
	strs := func(xs ...any) []string {
		var out []string
		for _, x := range xs {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	for _, tc := range []struct {
		ref  string
		want []string
	}{
		{"#/components/schemas/Status", strs(toAny(ticket.Statuses)...)},
		{"#/components/schemas/Channel", strs(toAny(ticket.Channels)...)},
		{"#/components/schemas/Priority", strs(toAny(ticket.Priorities)...)},
		{"#/components/schemas/Error/properties/error/properties/code", []string{
			codeBadRequest, codeUnauthorized, codeForbidden, codeNotFound, codeMethodNotAllowed, codeTimeout,
			codeConflict, codeTooLarge, codeUnsupportedMedia, codeRangeNotSatisf, codeInvalid, codeUnavailable, codeInternal}},
		{"#/components/schemas/CreateTicketRequest/properties/channel", strs(toAny(apiChannels)...)},
		{"#/components/schemas/OutboxRow/properties/state", []string{ticket.RowPending, ticket.RowDead}},
		{"#/components/schemas/SubsystemStatus/properties/state", []string{health.OK, health.Degraded, health.Down, health.Disabled}},
		{"#/components/schemas/Message/properties/direction", strs(ticket.Incoming, ticket.Outgoing, ticket.Internal)},
		{"#/components/schemas/Message/properties/delivery", []string{ticket.DeliveryQueued, ticket.DeliverySent, ticket.DeliveryDelivered, ticket.DeliveryFailed}},
		{"#/components/schemas/Actor/properties/kind", []string{ticket.ActorStaff, ticket.ActorChannel, ticket.ActorRule, ticket.ActorRemote, ticket.ActorSystem, ticket.ActorAPI}},
		{"#/components/schemas/Role", strs(toAny(auth.Roles)...)},
	} {
		if got := enum(tc.ref); !slices.Equal(got, tc.want) {
			t.Errorf("%s enum = %v, want %v", tc.ref, got, tc.want)
		}
	}
	for _, tc := range []struct {
		schema map[string]any
		kw     string
		want   int
	}{
		{s.queryParam(t, "GET", "/api/v1/tickets", "limit"), "maximum", ticket.MaxPageSize},
		{s.queryParam(t, "GET", "/api/v1/tickets", "limit"), "default", ticket.DefaultPageSize},
		{s.queryParam(t, "GET", "/api/v1/outbox", "limit"), "maximum", ticket.MaxPageSize},
		{s.queryParam(t, "GET", "/api/v1/outbox", "limit"), "default", ticket.MaxPageSize},
		{s.queryParam(t, "DELETE", "/api/v1/tickets/{number}", "why"), "maxLength", maxWhy},
		{s.deref(t, map[string]any{"$ref": "#/components/parameters/IdempotencyKey/schema"}), "maxLength", maxIdempotencyKey},
		{s.deref(t, map[string]any{"$ref": "#/components/schemas/CreateTicketRequest/properties/tags"}), "maxItems", maxTags},
		{s.deref(t, map[string]any{"$ref": "#/components/schemas/PatchTicketRequest/properties/why"}), "maxLength", maxWhy},
		{s.deref(t, map[string]any{"$ref": "#/components/schemas/MergeRequest/properties/why"}), "maxLength", maxWhy},
	} {
		if got, _ := tc.schema[tc.kw].(float64); got != float64(tc.want) {
			t.Errorf("%v: %s = %v, want %d", tc.schema, tc.kw, got, tc.want)
		}
	}
}

// queryParam returns the schema of query parameter name of an operation.
func (s spec) queryParam(t testing.TB, method, path, name string) map[string]any {
	t.Helper()
	list, _ := s.operation(t, method, path)["parameters"].([]any)
	for _, p := range list {
		if pm := s.deref(t, p); pm["in"] == "query" && pm["name"] == name {
			return s.deref(t, pm["schema"])
		}
	}
	t.Fatalf("%s %s has no query parameter %s", method, path, name)
	return nil
}

func toAny[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// TestOpenAPIRoutes checks the document against the routes the server
// registers, both ways, so that neither can change without the other.
func TestOpenAPIRoutes(t *testing.T) {
	f := newFixture(t)
	s := loadSpec(t)
	param := regexp.MustCompile(`:([A-Za-z0-9_]+)`)

	registered := map[string]bool{} // "GET /api/v1/tickets/{number}"
	gets := map[string]bool{}
	var heads []string
	for _, r := range f.app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/") && r.Path != "/healthz" && r.Path != "/metrics" {
			continue
		}
		if strings.ContainsAny(r.Path, "*?+") {
			t.Errorf("route %s %s: the document cannot say wildcards or optional parameters", r.Method, r.Path)
			continue
		}
		p := param.ReplaceAllString(r.Path, "{$1}")
		switch r.Method {
		case "HEAD":
			// fiber's Get registers HEAD with GET; the document says
			// so once, in its description.
			heads = append(heads, p)
			continue
		case "GET":
			gets[p] = true
		}
		registered[r.Method+" "+p] = true
	}
	for _, p := range heads {
		if !gets[p] {
			t.Errorf("route HEAD %s has no GET: document it", p)
		}
	}
	if len(registered) < 12 {
		t.Fatalf("only %d routes found: %v", len(registered), registered)
	}

	documented := map[string]bool{}
	for path, v := range s.paths() {
		item := v.(map[string]any)
		for _, m := range httpMethods {
			op, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			key := strings.ToUpper(m) + " " + path
			documented[key] = true
			if !registered[key] {
				t.Errorf("the document describes %s, which the server does not serve", key)
			}
			// Each {param} of the path is declared, and nothing else.
			var inPath []string
			for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(path, -1) {
				inPath = append(inPath, m[1])
			}
			declared := s.pathParams(t, item, op)
			slices.Sort(inPath)
			slices.Sort(declared)
			if !slices.Equal(inPath, declared) {
				t.Errorf("%s declares path parameters %v, want %v", key, declared, inPath)
			}
			if op["operationId"] == nil || op["responses"] == nil {
				t.Errorf("%s has no operationId or responses", key)
			}
		}
	}
	for key := range registered {
		if !documented[key] {
			t.Errorf("the server serves %s, which the document does not describe", key)
		}
	}
	t.Logf("%d operations documented and served", len(documented))
}

// TestOpenAPIRefs checks that every $ref resolves, and that every
// component is used.
func TestOpenAPIRefs(t *testing.T) {
	s := loadSpec(t)
	used := map[string]bool{}
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				if _, err := s.resolve(ref); err != nil {
					t.Errorf("%s: %v", at, err)
				}
				used[ref] = true
			}
			for k, e := range x {
				walk(e, at+"/"+k)
			}
		case []any:
			for i, e := range x {
				walk(e, at+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(s.root, "#")
	comps := s.root["components"].(map[string]any)
	for kind, v := range comps {
		if kind == "securitySchemes" {
			continue // used by name in security requirements
		}
		for name := range v.(map[string]any) {
			if ref := "#/components/" + kind + "/" + name; !used[ref] {
				t.Errorf("%s is never used", ref)
			}
		}
	}
}

// TestOpenAPIGoTypes compares the members of each schema with the JSON
// names of the Go type it describes: every field is documented, nothing
// more, and for answers the fields always present are the required ones.
func TestOpenAPIGoTypes(t *testing.T) {
	s := loadSpec(t)
	for _, tc := range []struct {
		schema   string
		typ      any
		required bool // compare required with the fields never left out
	}{
		{"Error", errorBody{}, true},
		{"Error/properties/error", errorDetail{}, true},
		{"Ticket", ticket.Ticket{}, true},
		{"Contact", ticket.Contact{}, true},
		{"CallLog", ticket.CallLog{}, true},
		{"Attachment", ticket.Attachment{}, true},
		{"Message", ticket.Message{}, true},
		{"Actor", ticket.Actor{}, true},
		{"Step", ticket.Step{}, true},
		{"Event", ticket.Event{}, true},
		{"Thread", ticket.Thread{}, true},
		{"TicketList", listResponse{}, true},
		{"CreateTicketResponse", createResponse{}, true},
		{"MessageResponse", messageResponse{}, true},
		{"TicketResponse", ticketResponse{}, true},
		{"OutboxRow", ticket.OutboxRow{}, true},
		{"OutboxList", outboxResponse{}, true},
		{"OutboxStats", ticket.OutboxStats{}, true},
		{"SubsystemStatus", health.Status{}, true},
		{"Health", healthResponse{}, true},
		{"Report", reportResponse{}, true},
		{"ReportChannel", reportChannelJSON{}, true},
		{"ReportDay", reportDayJSON{}, true},
		{"ReportRow", reportRowJSON{}, true},
		{"DurationStats", durStatsJSON{}, true},
		{"User", auth.User{}, true},
		{"UserList", userList{}, true},
		{"Token", auth.Token{}, true},
		{"TokenList", tokenList{}, true},
		{"CreateTokenResponse", createTokenResponse{}, true},
		{"CreateTicketRequest", createRequest{}, false},
		{"ContactInput", contactInput{}, false},
		{"AttachmentInput", attachmentInput{}, false},
		{"PatchTicketRequest", patchRequest{}, false},
		{"ReplyRequest", replyRequest{}, false},
		{"NoteRequest", noteRequest{}, false},
		{"MergeRequest", mergeRequest{}, false},
		{"CreateUserRequest", createUserRequest{}, false},
		{"PasswordRequest", passwordRequest{}, false},
		{"CreateTokenRequest", createTokenRequest{}, false},
	} {
		v, err := s.resolve("#/components/schemas/" + tc.schema)
		if err != nil {
			t.Error(err)
			continue
		}
		sm := v.(map[string]any)
		props := slices.Sorted(maps.Keys(sm["properties"].(map[string]any)))
		var req []string
		for _, r := range sm["required"].([]any) {
			req = append(req, r.(string))
		}
		slices.Sort(req)
		names, always := jsonFields(reflect.TypeOf(tc.typ))
		if !slices.Equal(props, names) {
			t.Errorf("%s has members %v; %T has %v", tc.schema, props, tc.typ, names)
		}
		if tc.required && !slices.Equal(req, always) {
			t.Errorf("%s requires %v; %T always has %v", tc.schema, req, tc.typ, always)
		}
	}
}

// jsonFields returns the JSON names of the fields of struct type typ, and
// those never left out, both sorted.
func jsonFields(typ reflect.Type) (names, always []string) {
	for f := range typ.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			always = append(always, name)
		}
	}
	slices.Sort(names)
	slices.Sort(always)
	return names, always
}

// checkAnswer checks a real answer against the document: its status is
// documented for the operation, the documented headers are there, and a
// JSON body fits the documented schema.
func (s spec) checkAnswer(t *testing.T, method, path string, r result) {
	t.Helper()
	op := s.operation(t, method, path)
	resps := op["responses"].(map[string]any)
	rv, ok := resps[strconv.Itoa(r.status)]
	if !ok {
		t.Errorf("%s %s answered %d, which is not documented; body %s", method, path, r.status, r.body)
		return
	}
	resp := s.deref(t, rv)
	hdrs, _ := resp["headers"].(map[string]any)
	for name := range hdrs {
		if r.header.Get(name) == "" {
			t.Errorf("%s %s %d: no %s header, which is documented", method, path, r.status, name)
		}
	}
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if len(r.body) != 0 {
			t.Errorf("%s %s %d: a body where none is documented: %s", method, path, r.status, r.body)
		}
		return
	}
	ct := r.header.Get("Content-Type")
	media, ok := content["application/json"].(map[string]any)
	if !ok {
		for mt := range content {
			if !strings.HasPrefix(ct, strings.Split(mt, ";")[0]) && mt != "application/octet-stream" {
				t.Errorf("%s %s %d: Content-Type %q, documented %q", method, path, r.status, ct, mt)
			}
		}
		return
	}
	if !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s %d: Content-Type %q, want JSON", method, path, r.status, ct)
		return
	}
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Errorf("%s %s %d: %v", method, path, r.status, err)
		return
	}
	var errs []string
	s.checkSchema(media["schema"], v, "body", &errs)
	for _, e := range errs {
		t.Errorf("%s %s %d: %s", method, path, r.status, e)
	}
}

// checkRequest checks that a request body the tests send fits the
// documented request schema, so that the document accepts real requests.
func (s spec) checkRequest(t *testing.T, method, path string, body any) {
	t.Helper()
	op := s.operation(t, method, path)
	rb := s.deref(t, op["requestBody"])
	schema := rb["content"].(map[string]any)["application/json"].(map[string]any)["schema"]
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var errs []string
	s.checkSchema(schema, v, "request", &errs)
	for _, e := range errs {
		t.Errorf("%s %s: %s", method, path, e)
	}
}

// TestOpenAPIAnswers drives the API as an integrator would and checks
// each answer against the document.
func TestOpenAPIAnswers(t *testing.T) {
	f := newFixture(t)
	s := loadSpec(t)
	f.health.Set("store", health.OK, "open")
	f.health.Fail("modem", health.Degraded, fmt.Errorf("no signal"))

	// call sends a request and checks the answer; a body the server
	// accepted must fit the documented request schema too.
	call := func(t *testing.T, method, path, docPath, tok string, body any, hdr ...string) result {
		t.Helper()
		r := f.with(t).do(method, path, tok, body, hdr...)
		s.checkAnswer(t, method, docPath, r)
		if body != nil && r.status < 300 {
			s.checkRequest(t, method, docPath, body)
		}
		return r
	}
	const (
		tickets  = "/api/v1/tickets"
		one      = "/api/v1/tickets/{number}"
		replies  = "/api/v1/tickets/{number}/replies"
		notes    = "/api/v1/tickets/{number}/notes"
		merge    = "/api/v1/tickets/{number}/merge"
		file     = "/api/v1/attachments/{id}"
		outbox   = "/api/v1/outbox"
		stats    = "/api/v1/outbox/stats"
		retry    = "/api/v1/outbox/{id}/retry"
		healthz  = "/healthz"
		document = "/api/openapi.json"
	)

	create := map[string]any{
		"subject":  "Retract gear stuck",
		"body":     "The retracts on the P-51 stop half way.",
		"contact":  map[string]any{"name": "Grace", "phone": "07700 900456", "email": "grace@example.com"},
		"channel":  "staff",
		"priority": "urgent",
		"tags":     []string{"Retracts", "warranty"},
		"attachments": []map[string]any{
			{"name": "gear.txt", "content_type": "text/plain", "data": base64.StdEncoding.EncodeToString([]byte("stuck at 45 degrees"))},
		},
	}
	var first createResponse
	t.Run("create", func(t *testing.T) {
		r := call(t, "POST", tickets, tickets, f.agent, create, "Idempotency-Key", "pos-1")
		r.wantStatus(t, 201)
		r.decode(t, &first)
		r = call(t, "POST", tickets, tickets, f.agent, create, "Idempotency-Key", "pos-1")
		r.wantStatus(t, 200)
		r = call(t, "POST", tickets, tickets, f.agent, map[string]any{"body": "no contact at all"})
		r.wantStatus(t, 201)
		var bare createResponse
		r.decode(t, &bare)
		call(t, "GET", "/api/v1/tickets/"+strconv.FormatUint(bare.Ticket.Number, 10), one, f.agent, nil).wantStatus(t, 200)
		call(t, "POST", tickets, tickets, f.agent, map[string]any{"body": "x", "channel": "sms"}).wantError(t, 422, codeInvalid)
		call(t, "POST", tickets, tickets, f.agent, map[string]any{"body": "x", "colour": "red"}).wantError(t, 400, codeBadRequest)
		call(t, "POST", tickets, tickets, f.agent, "{}", "Content-Type", "text/plain").wantError(t, 415, codeUnsupportedMedia)
		call(t, "POST", tickets, tickets, "", nil).wantError(t, 401, codeUnauthorized)
	})
	if first.Ticket.Number == 0 {
		t.Fatal("no ticket was created")
	}
	n := strconv.FormatUint(first.Ticket.Number, 10)
	second := f.create(f.agent, map[string]any{"body": "Spare prop for the Cub", "contact": map[string]any{"email": "grace@example.com"}})
	n2 := strconv.FormatUint(second.Ticket.Number, 10)

	t.Run("list", func(t *testing.T) {
		call(t, "GET", tickets+"?limit=1", tickets, f.agent, nil).wantStatus(t, 200)
		call(t, "GET", tickets+"?status=new&priority=urgent&tag=retracts", tickets, f.agent, nil).wantStatus(t, 200)
		call(t, "GET", tickets+"?colour=red", tickets, f.agent, nil).wantError(t, 400, codeBadRequest)
		call(t, "GET", tickets+"?deleted=true", tickets, f.agent, nil).wantError(t, 403, codeForbidden)
		call(t, "GET", tickets+"?deleted=true", tickets, f.admin, nil).wantStatus(t, 200)
	})
	t.Run("change", func(t *testing.T) {
		call(t, "PATCH", "/api/v1/tickets/"+n, one, f.agent, map[string]any{"status": "open", "assignee": "kim", "add_tags": []string{"gear"}, "why": "on the bench"}).wantStatus(t, 200)
		call(t, "PATCH", "/api/v1/tickets/"+n, one, f.agent, map[string]any{"status": "bogus"}).wantError(t, 422, codeInvalid)
		call(t, "PATCH", "/api/v1/tickets/"+n, one, f.agent, map[string]any{"status": "new"}).wantError(t, 409, codeConflict)
		call(t, "POST", "/api/v1/tickets/%23"+n+"/notes", notes, f.agent, map[string]any{"body": "ordered a new servo"}).wantStatus(t, 201)
		call(t, "POST", "/api/v1/tickets/"+n+"/notes", notes, f.agent, map[string]any{"body": " "}).wantError(t, 422, codeInvalid)
		call(t, "POST", "/api/v1/tickets/"+n+"/replies", replies, f.agent, map[string]any{"body": "The servo is on its way.", "status": "pending"}).wantStatus(t, 201)
		call(t, "GET", "/api/v1/tickets/"+n, one, f.agent, nil).wantStatus(t, 200)
		call(t, "GET", "/api/v1/tickets/999999", one, f.agent, nil).wantError(t, 404, codeNotFound)
		call(t, "GET", "/api/v1/tickets/x1", one, f.agent, nil).wantError(t, 400, codeBadRequest)
		call(t, "POST", "/api/v1/tickets/"+n2+"/merge", merge, f.agent, map[string]any{"into": first.Ticket.Number, "why": "same customer"}).wantStatus(t, 200)
		call(t, "POST", "/api/v1/tickets/"+n2+"/notes", notes, f.agent, map[string]any{"body": "late"}).wantError(t, 409, codeConflict)
		call(t, "DELETE", "/api/v1/tickets/"+n2+"?why=merged", one, f.agent, nil).wantError(t, 403, codeForbidden)
		call(t, "DELETE", "/api/v1/tickets/"+n+"?why=test", one, f.admin, nil).wantStatus(t, 204)
		call(t, "GET", "/api/v1/tickets/"+n, one, f.agent, nil).wantError(t, 404, codeNotFound)
		call(t, "GET", "/api/v1/tickets/"+n, one, f.admin, nil).wantStatus(t, 200)
	})
	t.Run("attachment", func(t *testing.T) {
		th, err := f.desk.Thread(first.Ticket.Number)
		if err != nil {
			t.Fatal(err)
		}
		var id string
		for _, m := range th.Messages {
			for _, a := range m.Attachments {
				id = a.ID
			}
		}
		if id == "" {
			t.Fatal("no attachment stored")
		}
		call(t, "GET", "/api/v1/attachments/"+id, file, f.agent, nil).wantStatus(t, 200)
		call(t, "GET", "/api/v1/attachments/"+id, file, f.agent, nil, "Range", "bytes=0-4").wantStatus(t, 206)
		call(t, "GET", "/api/v1/attachments/"+id, file, f.agent, nil, "Range", "bytes=500-").wantError(t, 416, codeRangeNotSatisf)
		call(t, "GET", "/api/v1/attachments/"+strings.Repeat("0", 64), file, f.agent, nil).wantError(t, 404, codeNotFound)
	})
	t.Run("outbox", func(t *testing.T) {
		r := call(t, "GET", outbox, outbox, f.admin, nil)
		r.wantStatus(t, 200)
		var rows outboxResponse
		r.decode(t, &rows)
		if len(rows.Rows) == 0 {
			t.Error("no outbox rows after a reply")
		}
		call(t, "GET", outbox+"?state=dead&limit=10", outbox, f.admin, nil).wantStatus(t, 200)
		call(t, "GET", outbox+"?state=gone", outbox, f.admin, nil).wantError(t, 400, codeBadRequest)
		call(t, "GET", stats, stats, f.agent, nil).wantStatus(t, 200)
		call(t, "POST", "/api/v1/outbox/999/retry", retry, f.admin, nil).wantError(t, 404, codeNotFound)
		if len(rows.Rows) > 0 {
			id := strconv.FormatUint(rows.Rows[0].ID, 10)
			call(t, "POST", "/api/v1/outbox/"+id+"/retry", retry, f.admin, nil).wantError(t, 422, codeInvalid)
		}
	})
	t.Run("operations", func(t *testing.T) {
		call(t, "GET", healthz, healthz, "", nil).wantStatus(t, 200)
		call(t, "GET", document, document, "", nil).wantStatus(t, 200)
		r := call(t, "GET", "/metrics", "/metrics", f.agent, nil)
		r.wantStatus(t, 200)
		call(t, "GET", "/metrics", "/metrics", "", nil).wantError(t, 401, codeUnauthorized)
	})
}

// TestOpenAPISecurity calls every documented operation without a token
// and with an agent's: the answers must be what the security
// requirements and x-required-role say.
func TestOpenAPISecurity(t *testing.T) {
	f := newFixture(t)
	s := loadSpec(t)
	fill := strings.NewReplacer("{number}", "1001", "{id}", "1", "{name}", "nobody")
	for path, v := range s.paths() {
		item := v.(map[string]any)
		for _, m := range httpMethods {
			op, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			method, target := strings.ToUpper(m), fill.Replace(path)
			sec, overridden := op["security"].([]any)
			open := overridden && len(sec) == 0
			r := f.do(method, target, "", nil)
			if open && r.status == 401 {
				t.Errorf("%s %s is documented without security but answers 401", method, path)
			}
			if !open {
				r.wantError(t, 401, codeUnauthorized)
				if r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s: 401 without WWW-Authenticate", method, path)
				}
			}
			r = f.do(method, target, f.agent, nil)
			if role, _ := op["x-required-role"].(string); role == "admin" {
				r.wantError(t, 403, codeForbidden)
			} else if r.status == 403 {
				t.Errorf("%s %s refuses an agent's token, but the document does not say it needs an admin's", method, path)
			}
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	f := newFixture(t)
	r := f.do("GET", "/api/openapi.json", "", nil)
	r.wantStatus(t, 200)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	if string(r.body) != string(openapiDoc) {
		t.Error("the served document is not the embedded one")
	}
	for _, h := range securityHeaders {
		if got := r.header.Get(h[0]); got != h[1] {
			t.Errorf("%s = %q, want %q", h[0], got, h[1])
		}
	}
	// A token, even a bad one, changes nothing.
	f.do("GET", "/api/openapi.json", "not-a-token", nil).wantStatus(t, 200)
	// The document's own servers entry is relative, so it works at any
	// address the appliance has.
	s := loadSpec(t)
	u := s.root["servers"].([]any)[0].(map[string]any)["url"].(string)
	if pu, err := url.Parse(u); err != nil || pu.IsAbs() {
		t.Errorf("servers url = %q, want a relative one", u)
	}
}
