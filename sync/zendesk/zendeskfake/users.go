package zendeskfake

import (
	"crypto/sha256"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The user endpoints, and uploads.

func (s *Server) showSelf(w http.ResponseWriter) {
	s.mu.Lock()
	u := userJSON(s.users[s.apiUser])
	s.mu.Unlock()
	u["authenticity_token"] = "fake-csrf-token"
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

// searchUsers serves Search Users by external_id; the search syntax of
// query is not served.
func (s *Server) searchUsers(w http.ResponseWriter, r *http.Request) {
	ext := r.URL.Query().Get("external_id")
	if ext == "" {
		badRequest(w, "InvalidValue", "the fake serves Search Users by external_id only")
		return
	}
	s.mu.Lock()
	users := []map[string]any{}
	if id, ok := s.byUserExt[strings.ToLower(ext)]; ok {
		users = append(users, userJSON(s.users[id]))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"users": users, "next_page": nil, "previous_page": nil, "count": len(users)})
}

// createUser serves Create User: a name is required; an email address and
// an external_id must be unused.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	body := readJSON(w, r)
	if body == nil {
		return
	}
	in, ok := object(body, "user")
	if !ok || in == nil {
		badRequest(w, "ParameterMissing", "param is missing or the value is empty: user")
		return
	}
	var u User
	for _, f := range []struct {
		key string
		v   *string
	}{{"name", &u.Name}, {"email", &u.Email}, {"phone", &u.Phone}, {"external_id", &u.ExternalID}, {"role", &u.Role}} {
		if _, ok := field(in, f.key, f.v); !ok {
			invalid(w, f.key, f.key+": is not a string")
			return
		}
	}
	if u.Role == "" {
		u.Role = RoleEndUser
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case strings.TrimSpace(u.Name) == "":
		invalid(w, "name", "Name: cannot be blank")
	case u.Email != "" && !strings.Contains(u.Email, "@"):
		invalid(w, "email", "Email: "+u.Email+" is not properly formatted")
	case u.Email != "" && s.byEmail[strings.ToLower(u.Email)] != 0:
		invalid(w, "email", "Email: "+u.Email+" is already being used by another user")
	case u.ExternalID != "" && s.byUserExt[strings.ToLower(u.ExternalID)] != 0:
		invalid(w, "external_id", "External: has already been taken")
	case u.Phone != "" && !e164(u.Phone):
		invalid(w, "phone", "Phone: "+u.Phone+" is not a valid phone number")
	case !slices.Contains([]string{RoleEndUser, RoleAgent, RoleAdmin}, u.Role):
		invalid(w, "role", "Role: is invalid")
	default:
		id := s.addUser(u, s.now())
		w.Header().Set("Location", "/api/v2/users/"+strconv.FormatInt(id, 10)+".json")
		writeJSON(w, http.StatusCreated, map[string]any{"user": userJSON(s.users[id])})
	}
}

// e164 reports whether p is an E.164 number: "+" and 8 to 15 digits.
func e164(p string) bool {
	d, ok := strings.CutPrefix(p, "+")
	if !ok || len(d) < 8 || len(d) > 15 {
		return false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func userJSON(u *User) map[string]any {
	return map[string]any{
		"id":           u.ID,
		"url":          "https://fake.zendesk.com/api/v2/users/" + strconv.FormatInt(u.ID, 10) + ".json",
		"name":         u.Name,
		"email":        nullable(u.Email),
		"phone":        nullable(u.Phone),
		"role":         u.Role,
		"external_id":  nullable(u.ExternalID),
		"created_at":   u.CreatedAt.Format(time.RFC3339),
		"updated_at":   u.CreatedAt.Format(time.RFC3339),
		"active":       true,
		"verified":     false,
		"suspended":    false,
		"tags":         []string{},
		"user_fields":  map[string]any{},
		"locale":       "en-US",
		"time_zone":    "London",
		"organization": nil,
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// uploadFile serves Upload Files: filename is required, Content-Type must
// name the file's type, a token joins the file to an earlier upload.
func (s *Server) uploadFile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := q.Get("filename")
	if name == "" {
		badRequest(w, "InvalidValue", "filename parameter is required")
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.Contains(mt, "/") {
		writeJSON(w, http.StatusUnsupportedMediaType, apiError{Error: "UnsupportedMediaType",
			Description: "Content-Type must be the MIME type of the file"})
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, MaxUpload+1))
	if err != nil {
		badRequest(w, "InvalidValue", "could not read the file")
		return
	}
	if len(data) > MaxUpload {
		writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: "RequestTooLarge", Description: "attachment is larger than 50 MB"})
		return
	}
	if len(data) == 0 {
		invalid(w, "uploads", "Uploaded file is empty")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	token := q.Get("token")
	var up *upload
	if token != "" {
		up = s.uploads[token]
		if up == nil || up.used {
			invalid(w, "token", "Token: "+token+" is not valid")
			return
		}
	} else {
		token = fmt.Sprintf("fake%08x", s.eventID())
		up = &upload{at: s.now()}
		s.uploads[token] = up
	}
	a := Attachment{ID: s.eventID(), FileName: name, ContentType: mt, Size: int64(len(data)), SHA256: sha256.Sum256(data)}
	up.files = append(up.files, a)
	var all []map[string]any
	for _, f := range up.files {
		all = append(all, attachmentJSON(f))
	}
	writeJSON(w, http.StatusCreated, map[string]any{"upload": map[string]any{
		"token": token, "attachment": attachmentJSON(a), "attachments": all,
	}})
}

func attachmentJSON(a Attachment) map[string]any {
	u := "https://fake.zendesk.com/attachments/token/" + strconv.FormatInt(a.ID, 10) + "/?name=" + url.QueryEscape(a.FileName)
	return map[string]any{
		"id": a.ID, "file_name": a.FileName, "content_type": a.ContentType, "size": a.Size,
		"content_url": u, "mapped_content_url": u, "inline": false, "deleted": false, "thumbnails": []any{},
		"url": "https://fake.zendesk.com/api/v2/attachments/" + strconv.FormatInt(a.ID, 10) + ".json",
	}
}
