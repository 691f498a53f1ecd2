package hubspotfake

import (
	"encoding/json"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The HUBSPOT_DEFINED association type ids the fake knows, by
// "from>to" (https://developers.hubspot.com/docs/api-reference/legacy/crm/associations/associate-records/guide#association-type-id-values).
var associationTypes = map[string]int{
	kindTicket + ">" + kindContact: 16,
	kindContact + ">" + kindTicket: 15,
	kindTicket + ">" + kindNote:    227,
	kindNote + ">" + kindTicket:    228,
	kindTicket + ">" + kindEmail:   223,
	kindEmail + ">" + kindTicket:   224,
	kindNote + ">" + kindContact:   202,
	kindContact + ">" + kindNote:   201,
}

// The enumeration values of HubSpot's default properties that the fake
// checks.
var (
	priorities   = []string{"LOW", "MEDIUM", "HIGH", "URGENT"}
	sourceTypes  = []string{"CHAT", "EMAIL", "FORM", "PHONE"}
	fileAccesses = []string{"PUBLIC_INDEXABLE", "PUBLIC_NOT_INDEXABLE", "HIDDEN_INDEXABLE", "HIDDEN_NOT_INDEXABLE", "HIDDEN_PRIVATE", "PRIVATE"}
)

// maxNoteBody is hs_note_body's documented limit.
const maxNoteBody = 65536

// writable returns the properties a request may set on kind.
func (s *Server) writable(kind string) []string {
	switch kind {
	case kindTicket:
		return []string{"subject", "content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_priority", "source_type", "hubspot_owner_id", s.idField}
	case kindNote:
		return []string{"hs_note_body", "hs_timestamp", "hubspot_owner_id", "hs_attachment_ids"}
	case kindContact:
		return []string{"email", "firstname", "lastname", "phone", "mobilephone"}
	}
	return nil
}

// defaults are the properties an answer holds when the request names
// none.
func defaults(kind string) []string {
	switch kind {
	case kindTicket:
		return []string{"content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_category", "hs_ticket_priority", "subject", "createdate", "hs_lastmodifieddate", "hs_object_id"}
	case kindContact:
		return []string{"firstname", "lastname", "email", "lastmodifieddate", "hs_object_id", "createdate"}
	}
	return []string{"hs_createdate", "hs_lastmodifieddate", "hs_object_id"}
}

// view is a record as the API answers it.
type view struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	CreatedAt  string             `json:"createdAt"`
	UpdatedAt  string             `json:"updatedAt"`
	Archived   bool               `json:"archived"`
}

// view returns o with the named properties (null when unset), or with
// every property it has when names is nil.
func (o *object) view(names []string) view {
	v := view{ID: o.id, Properties: make(map[string]*string), CreatedAt: isoTime(o.created), UpdatedAt: isoTime(o.updated)}
	if names == nil {
		for k, val := range o.props {
			v.Properties[k] = &val
		}
		return v
	}
	for _, k := range names {
		if val, ok := o.props[k]; ok {
			v.Properties[k] = &val
		} else {
			v.Properties[k] = nil
		}
	}
	return v
}

// propertyNames reads the "properties" query parameter, repeated or comma
// separated, with the defaults added.
func propertyNames(r *http.Request, kind string) []string {
	names := defaults(kind)
	for _, p := range r.URL.Query()["properties"] {
		for _, n := range strings.Split(p, ",") {
			if n = strings.TrimSpace(n); n != "" && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return names
}

// checkProperties validates the properties a request sets on kind. s.mu
// is held.
func (s *Server) checkProperties(kind string, props map[string]*string, current map[string]string) *apiError {
	allowed := s.writable(kind)
	for k, v := range props {
		if !slices.Contains(allowed, k) {
			return invalid("Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"%s\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"%s\"}]", k, k)
		}
		if v == nil {
			continue
		}
		if bad := s.checkValue(kind, k, *v, props, current); bad != "" {
			return invalid("Property values were not valid: [{\"isValid\":false,\"message\":\"%s\",\"error\":\"INVALID_OPTION\",\"name\":\"%s\"}]", bad, k)
		}
	}
	return nil
}

// checkValue returns why value is not valid for property k, or "".
func (s *Server) checkValue(kind, k, value string, props map[string]*string, current map[string]string) string {
	switch {
	case kind == kindTicket && k == "hs_ticket_priority" && value != "":
		if !slices.Contains(priorities, value) {
			return value + " was not one of the allowed options: [LOW, MEDIUM, HIGH, URGENT]"
		}
	case kind == kindTicket && k == "source_type" && value != "":
		if !slices.Contains(sourceTypes, value) {
			return value + " was not one of the allowed options: [CHAT, EMAIL, FORM, PHONE]"
		}
	case kind == kindTicket && k == "hs_pipeline":
		if _, ok := s.stages[value]; !ok {
			return value + " is not a valid pipeline id"
		}
	case kind == kindTicket && k == "hs_pipeline_stage":
		pipeline := current["hs_pipeline"]
		if p := props["hs_pipeline"]; p != nil {
			pipeline = *p
		}
		if pipeline == "" {
			pipeline = "0"
		}
		if !slices.Contains(s.stages[pipeline], value) {
			return value + " is not a valid pipeline stage of pipeline " + pipeline
		}
	case kind == kindNote && k == "hs_timestamp":
		if _, ok := parseTime(value); !ok {
			return value + " is not a valid timestamp: use unix milliseconds or UTC ISO 8601"
		}
	case kind == kindNote && k == "hs_note_body":
		if len([]rune(value)) > maxNoteBody {
			return "hs_note_body is longer than 65536 characters"
		}
	case kind == kindNote && k == "hs_attachment_ids" && value != "":
		for _, id := range strings.Split(value, ";") {
			if _, ok := s.files[id]; !ok {
				return "file " + id + " does not exist"
			}
		}
	case kind == kindContact && k == "email" && value != "":
		if at := strings.IndexByte(value, '@'); at <= 0 || at == len(value)-1 {
			return "Email address " + value + " is invalid"
		}
	}
	return ""
}

// associationInput is one association of a create request.
type associationInput struct {
	To struct {
		ID json.RawMessage `json:"id"`
	} `json:"to"`
	Types []struct {
		Category string `json:"associationCategory"`
		TypeID   int    `json:"associationTypeId"`
	} `json:"types"`
}

// objectInput is the body of a create or update request.
type objectInput struct {
	Properties   map[string]*string `json:"properties"`
	Associations []associationInput `json:"associations"`
}

// rawID reads an id written as a JSON string or number.
func rawID(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// create handles POST /crm/v3/objects/{kind}.
func (s *Server) create(r *http.Request, kind string) (int, any, *apiError) {
	if kind == kindEmail {
		return 0, nil, invalid("the fake does not create emails through the API")
	}
	var in objectInput
	if err := decodeJSON(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Properties == nil {
		return 0, nil, invalid("Invalid input JSON: properties is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkProperties(kind, in.Properties, nil); err != nil {
		return 0, nil, err
	}
	get := func(k string) string {
		if v := in.Properties[k]; v != nil {
			return *v
		}
		return ""
	}
	switch kind {
	case kindTicket:
		if get("subject") == "" {
			return 0, nil, invalid("Property values were not valid: [{\"isValid\":false,\"message\":\"subject is required\",\"error\":\"REQUIRED_FIELD\",\"name\":\"subject\"}]")
		}
		if get("hs_pipeline_stage") == "" {
			return 0, nil, invalid("Property values were not valid: [{\"isValid\":false,\"message\":\"hs_pipeline_stage is required\",\"error\":\"REQUIRED_FIELD\",\"name\":\"hs_pipeline_stage\"}]")
		}
		if v := get(s.idField); v != "" {
			if id, ok := s.unique[v]; ok {
				return 0, nil, fail(http.StatusConflict, "CONFLICT", "A ticket with %s %q already exists. Existing ID: %s", s.idField, v, id)
			}
		}
	case kindNote:
		if get("hs_timestamp") == "" {
			return 0, nil, invalid("Property values were not valid: [{\"isValid\":false,\"message\":\"hs_timestamp is required\",\"error\":\"REQUIRED_FIELD\",\"name\":\"hs_timestamp\"}]")
		}
	case kindContact:
		if v := strings.ToLower(get("email")); v != "" {
			if id, ok := s.email[v]; ok {
				return 0, nil, fail(http.StatusConflict, "CONFLICT", "Contact already exists. Existing ID: %s", id)
			}
		}
	}
	var links []struct {
		kind, id string
		typeID   int
	}
	for _, a := range in.Associations {
		id := rawID(a.To.ID)
		if id == "" || len(a.Types) == 0 {
			return 0, nil, invalid("Invalid input JSON: an association needs to.id and types")
		}
		var to string
		for _, t := range a.Types {
			if t.Category != "HUBSPOT_DEFINED" {
				return 0, nil, invalid("associationCategory %q is not valid for association type %d", t.Category, t.TypeID)
			}
			k := ""
			for pair, n := range associationTypes {
				if n == t.TypeID && strings.HasPrefix(pair, kind+">") {
					k = strings.TrimPrefix(pair, kind+">")
				}
			}
			if k == "" {
				return 0, nil, invalid("%d is not a valid association type id from %s", t.TypeID, kind)
			}
			if to != "" && to != k {
				return 0, nil, invalid("association types of one association must be of one object type")
			}
			to = k
		}
		if _, ok := s.objects[to][id]; !ok {
			return 0, nil, invalid("Could not create associations: %s %s does not exist", strings.TrimSuffix(to, "s"), id)
		}
		links = append(links, struct {
			kind, id string
			typeID   int
		}{to, id, a.Types[0].TypeID})
	}
	now := s.tick()
	o := &object{kind: kind, id: s.newID(), props: make(map[string]string), created: now, updated: now}
	for k, v := range in.Properties {
		if v != nil {
			o.props[k] = *v
		}
	}
	s.stamp(o)
	if kind == kindTicket && o.props["hs_pipeline"] == "" {
		o.props["hs_pipeline"] = "0"
	}
	s.objects[kind][o.id] = o
	switch kind {
	case kindTicket:
		if v := o.props[s.idField]; v != "" {
			s.unique[v] = o.id
		}
	case kindContact:
		if v := strings.ToLower(o.props["email"]); v != "" {
			s.email[v] = o.id
		}
	}
	for _, l := range links {
		s.associate(kind, o.id, l.kind, l.id)
	}
	return http.StatusCreated, o.view(nil), nil
}

// stamp sets the read-only properties of o. s.mu is held.
func (s *Server) stamp(o *object) {
	o.props["hs_object_id"] = o.id
	o.props["hs_lastmodifieddate"] = isoTime(o.updated)
	if o.kind == kindTicket || o.kind == kindContact {
		o.props["createdate"] = isoTime(o.created)
	} else {
		o.props["hs_createdate"] = isoTime(o.created)
	}
	if o.kind == kindContact {
		o.props["lastmodifieddate"] = isoTime(o.updated)
	}
}

// associate links two records both ways. s.mu is held.
func (s *Server) associate(fromKind, fromID, toKind, toID string) {
	add := func(k1, id1, k2, id2 string) {
		key := k1 + ":" + id1 + ">" + k2
		for _, l := range s.assoc[key] {
			if l.id == id2 {
				return
			}
		}
		s.assoc[key] = append(s.assoc[key], link{id: id2, typeID: associationTypes[k1+">"+k2]})
	}
	add(fromKind, fromID, toKind, toID)
	add(toKind, toID, fromKind, fromID)
}

// lookup finds a record by id, or by a unique property. s.mu is held.
func (s *Server) lookup(kind, id, idProperty string) (*object, *apiError) {
	switch idProperty {
	case "", "hs_object_id":
	case s.idField:
		if kind != kindTicket {
			return nil, invalid("%s is not a unique property of %s", idProperty, kind)
		}
		id = s.unique[id]
	case "email":
		if kind != kindContact {
			return nil, invalid("email is not a unique property of %s", kind)
		}
		id = s.email[strings.ToLower(id)]
	default:
		return nil, invalid("Property %s is not a unique identifier property of %s", idProperty, kind)
	}
	o, ok := s.objects[kind][id]
	if !ok {
		return nil, notFound("resource not found")
	}
	return o, nil
}

// get handles GET /crm/v3/objects/{kind}/{id}.
func (s *Server) get(r *http.Request, kind, id string) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.lookup(kind, id, r.URL.Query().Get("idProperty"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, o.view(propertyNames(r, kind)), nil
}

// update handles PATCH /crm/v3/objects/{kind}/{id}.
func (s *Server) update(r *http.Request, kind, id string) (int, any, *apiError) {
	var in objectInput
	if err := decodeJSON(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Properties == nil {
		return 0, nil, invalid("Invalid input JSON: properties is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.lookup(kind, id, r.URL.Query().Get("idProperty"))
	if err != nil {
		return 0, nil, err
	}
	if err := s.checkProperties(kind, in.Properties, o.props); err != nil {
		return 0, nil, err
	}
	if kind == kindTicket {
		if v := in.Properties[s.idField]; v != nil && *v != o.props[s.idField] {
			if other, ok := s.unique[*v]; ok && other != o.id {
				return 0, nil, fail(http.StatusConflict, "CONFLICT", "A ticket with %s %q already exists. Existing ID: %s", s.idField, *v, other)
			}
			delete(s.unique, o.props[s.idField])
			if *v != "" {
				s.unique[*v] = o.id
			}
		}
	}
	for k, v := range in.Properties {
		if v == nil || *v == "" {
			delete(o.props, k)
		} else {
			o.props[k] = *v
		}
	}
	o.updated = s.tick()
	s.stamp(o)
	return http.StatusOK, o.view(nil), nil
}

// batchRead handles POST /crm/v3/objects/{kind}/batch/read.
func (s *Server) batchRead(r *http.Request, kind string) (int, any, *apiError) {
	var in struct {
		Properties []string `json:"properties"`
		IDProperty string   `json:"idProperty"`
		Inputs     []struct {
			ID string `json:"id"`
		} `json:"inputs"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return 0, nil, err
	}
	if len(in.Inputs) > 100 {
		return 0, nil, invalid("Batch input of %d records is above the limit of 100", len(in.Inputs))
	}
	names := defaults(kind)
	for _, p := range in.Properties {
		if !slices.Contains(names, p) {
			names = append(names, p)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	started := isoTime(time.Now())
	results := []view{}
	var missing []string
	for _, input := range in.Inputs {
		o, err := s.lookup(kind, input.ID, in.IDProperty)
		if err != nil {
			if err.status != http.StatusNotFound {
				return 0, nil, err
			}
			missing = append(missing, input.ID)
			continue
		}
		results = append(results, o.view(names))
	}
	out := map[string]any{"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": isoTime(time.Now())}
	if len(missing) == 0 {
		return http.StatusOK, out, nil
	}
	out["numErrors"] = 1
	out["errors"] = []map[string]any{{
		"status": "error", "category": "OBJECT_NOT_FOUND",
		"message": "Could not get some " + strings.ToUpper(strings.TrimSuffix(kind, "s")) + " objects, they may be deleted or not exist. Check that ids are valid.",
		"context": map[string][]string{"ids": missing},
	}}
	return http.StatusMultiStatus, out, nil
}

// assocView is one associated record in an associations v4 answer.
type assocView struct {
	ToObjectID json.Number `json:"toObjectId"`
	Types      []assocType `json:"associationTypes"`
}

type assocType struct {
	Category string  `json:"category"`
	TypeID   int     `json:"typeId"`
	Label    *string `json:"label"`
}

func (l link) view() assocView {
	return assocView{ToObjectID: json.Number(l.id), Types: []assocType{{Category: "HUBSPOT_DEFINED", TypeID: l.typeID}}}
}

// associations handles GET /crm/v4/objects/{from}/{id}/associations/{to}.
func (s *Server) associations(r *http.Request, from, id, to string) (int, any, *apiError) {
	if from == "" || to == "" {
		return 0, nil, notFound("Unable to infer object type")
	}
	q := r.URL.Query()
	limit := 500
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return 0, nil, invalid("limit must be between 1 and 500, not %s", v)
		}
		limit = n
	}
	offset := 0
	if v := q.Get("after"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, nil, invalid("after %q is not a valid paging cursor", v)
		}
		offset = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[from][id]; !ok {
		return 0, nil, notFound("resource not found")
	}
	all := s.assoc[from+":"+id+">"+to]
	results := []assocView{}
	for i := offset; i < len(all) && len(results) < limit; i++ {
		results = append(results, all[i].view())
	}
	out := map[string]any{"results": results}
	if next := offset + limit; next < len(all) {
		out["paging"] = map[string]any{"next": map[string]string{"after": strconv.Itoa(next), "link": "?after=" + strconv.Itoa(next)}}
	}
	return http.StatusOK, out, nil
}

// batchAssociations handles POST /crm/v4/associations/{from}/{to}/batch/read.
func (s *Server) batchAssociations(r *http.Request, from, to string) (int, any, *apiError) {
	if from == "" || to == "" {
		return 0, nil, notFound("Unable to infer object type")
	}
	var in struct {
		Inputs []struct {
			ID string `json:"id"`
		} `json:"inputs"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return 0, nil, err
	}
	if len(in.Inputs) > 1000 {
		return 0, nil, invalid("Batch input of %d records is above the limit of 1000", len(in.Inputs))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	type result struct {
		From struct {
			ID string `json:"id"`
		} `json:"from"`
		To []assocView `json:"to"`
	}
	results := []result{}
	for _, input := range in.Inputs {
		all := s.assoc[from+":"+input.ID+">"+to]
		if len(all) == 0 {
			continue
		}
		var res result
		res.From.ID = input.ID
		for _, l := range all {
			res.To = append(res.To, l.view())
		}
		results = append(results, res)
	}
	return http.StatusOK, map[string]any{"status": "COMPLETE", "results": results, "startedAt": isoTime(time.Now()), "completedAt": isoTime(time.Now())}, nil
}

// maxUpload bounds an uploaded file in the fake.
const maxUpload = 64 << 20

// upload handles POST /files/v3/files: a multipart form with the file, a
// folderId or folderPath (one of them), and options whose access is
// required.
func (s *Server) upload(r *http.Request) (int, any, *apiError) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return 0, nil, fail(http.StatusUnsupportedMediaType, "VALIDATION_ERROR", "Content type '%s' not supported; use multipart/form-data", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(http.MaxBytesReader(nil, r.Body, maxUpload+1<<20), params["boundary"])
	fields := make(map[string]string)
	var f *File
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, nil, invalid("Invalid multipart body: %v", err)
		}
		data, err := io.ReadAll(io.LimitReader(p, maxUpload+1))
		if err != nil {
			return 0, nil, invalid("Invalid multipart body: %v", err)
		}
		if p.FormName() == "file" {
			if p.FileName() == "" {
				return 0, nil, invalid("file must be a file part with a file name")
			}
			if len(data) > maxUpload {
				return 0, nil, invalid("file is too large")
			}
			f = &File{Name: p.FileName(), Type: p.Header.Get("Content-Type"), Data: data}
			continue
		}
		fields[p.FormName()] = string(data)
	}
	if f == nil {
		return 0, nil, invalid("file is required")
	}
	if (fields["folderId"] == "") == (fields["folderPath"] == "") {
		return 0, nil, invalid("Either 'folderId' or 'folderPath' is required, but not both")
	}
	var opts struct {
		Access string `json:"access"`
		TTL    string `json:"ttl"`
	}
	if err := json.Unmarshal([]byte(fields["options"]), &opts); err != nil {
		return 0, nil, invalid("options must be a JSON object: %v", err)
	}
	if !slices.Contains(fileAccesses, opts.Access) {
		return 0, nil, invalid("options.access %q is not one of %s", opts.Access, strings.Join(fileAccesses, ", "))
	}
	if n := fields["fileName"]; n != "" {
		f.Name = n
	}
	f.Access, f.Folder = opts.Access, fields["folderPath"]+fields["folderId"]
	s.mu.Lock()
	f.ID = s.newID()
	s.files[f.ID] = f
	now := isoTime(s.tick())
	s.mu.Unlock()
	ext := ""
	if i := strings.LastIndexByte(f.Name, '.'); i >= 0 {
		ext = f.Name[i+1:]
	}
	return http.StatusCreated, map[string]any{
		"id": f.ID, "name": strings.TrimSuffix(f.Name, "."+ext), "extension": ext, "access": f.Access,
		"size": len(f.Data), "type": "AUDIO", "path": f.Folder + "/" + f.Name, "parentFolderId": "1",
		"url":       "https://api-eu1.hubspot.com/filemanager/api/v2/files/" + f.ID + "/signed-url-redirect",
		"createdAt": now, "updatedAt": now, "archived": false, "isUsableInContent": false,
	}, nil
}

// copyOf returns a copy of o for tests.
func copyOf(o *object) Object {
	return Object{ID: o.id, Properties: maps.Clone(o.props), Created: o.created, Updated: o.updated}
}

// list handles GET /crm/v3/objects/{kind}: a page of records, oldest
// first.
func (s *Server) list(r *http.Request, kind string) (int, any, *apiError) {
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return 0, nil, invalid("limit must be between 1 and 100, not %s", v)
		}
		limit = n
	}
	after := q.Get("after")
	names := propertyNames(r, kind)
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*object, 0, len(s.objects[kind]))
	for _, o := range s.objects[kind] {
		if after == "" || byID(o.id, after) > 0 {
			all = append(all, o)
		}
	}
	slices.SortFunc(all, func(a, b *object) int { return byID(a.id, b.id) })
	results := []view{}
	for _, o := range all[:min(limit, len(all))] {
		results = append(results, o.view(names))
	}
	out := map[string]any{"results": results}
	if len(all) > limit {
		last := all[limit-1].id
		out["paging"] = map[string]any{"next": map[string]string{"after": last, "link": "?after=" + last}}
	}
	return http.StatusOK, out, nil
}
