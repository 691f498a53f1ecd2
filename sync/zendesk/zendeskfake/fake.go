// Package zendeskfake is a fake Zendesk Support account for the tests and
// benchmarks of the zendesk sync target and the engine. It serves the
// requests the target makes, checks each the way the Zendesk Support API
// reference documents it (path and method, the Authorization header,
// Content-Type, the required properties and their allowed values, the
// upload flow, the Idempotency-Key of ticket creation), answers a wrong
// one with Zendesk's status and error body, and keeps tickets, comments,
// users and uploads in memory. Its methods let a test list what was made
// and act as the shop's staff: reply, write a note, change a status.
//
// The fake is stricter than Zendesk in one place, to catch mistakes: an
// upload token it does not know is refused (422) instead of ignored.
package zendeskfake

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	stdsync "sync"
	"time"

	"github.com/counterdesk/counterdesk/sync/synctest"
)

// Limits of the fake, as Zendesk's.
const (
	// MaxUpload is the largest file Upload Files takes (50 MB).
	MaxUpload = 50 << 20
	// MaxComments is the most comments a ticket holds; one more is 422.
	MaxComments = 5000
	// IdempotencyTTL is how long an Idempotency-Key is remembered.
	IdempotencyTTL = 2 * time.Hour
	// exportPageSize is the tickets of one incremental export page.
	exportPageSize = 1000
	// maxJSON bounds a JSON request body.
	maxJSON = 1 << 20
)

// The roles of users.
const (
	RoleEndUser = "end-user"
	RoleAgent   = "agent"
	RoleAdmin   = "admin"
)

// Server is the fake account, an http.Handler. Set its exported fields
// before it serves its first request; its methods may be called while it
// serves.
type Server struct {
	// Faults makes the account misbehave: down, 500, 429, lost answers.
	Faults synctest.Faults
	// Now is the account's clock; time.Now unless set.
	Now func() time.Time
	// ExportLag leaves changes younger than it out of the incremental
	// export, as Zendesk leaves out the latest minute; 0 unless set, so
	// that tests see changes at once.
	ExportLag time.Duration

	email, token string
	handler      http.Handler

	mu         stdsync.Mutex
	last       time.Time // latest time handed out: the clock never goes back
	nextTicket int64
	nextUser   int64
	nextEvent  int64 // audits, comments and attachments share it
	seq        uint64
	tickets    map[int64]*ticketState
	byExternal map[string][]int64
	users      map[int64]*User
	byEmail    map[string]int64
	byUserExt  map[string]int64
	uploads    map[string]*upload
	idem       map[string]*idemEntry
	changes    []change // the export log, in seq order
	apiUser    int64
	staffUser  int64
	made       int // tickets made by POST /api/v2/tickets
	replays    int // creations answered from an Idempotency-Key
}

// Ticket is a ticket as the fake holds it.
type Ticket struct {
	ID          int64
	ExternalID  string
	Subject     string
	Description string
	Status      string
	Priority    string
	Tags        []string
	RequesterID int64
	SubmitterID int64
	AssigneeID  int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Comment is a comment of a ticket.
type Comment struct {
	ID          int64
	AuthorID    int64
	Body        string
	Public      bool
	Attachments []Attachment
	CreatedAt   time.Time
}

// Attachment is an uploaded file attached to a comment.
type Attachment struct {
	ID          int64
	FileName    string
	ContentType string
	Size        int64
	SHA256      [32]byte
}

// User is a user of the account.
type User struct {
	ID         int64
	Name       string
	Email      string
	Phone      string
	Role       string
	ExternalID string
	CreatedAt  time.Time
}

type ticketState struct {
	Ticket
	comments []Comment
	seq      uint64 // of its latest change
}

type upload struct {
	files []Attachment
	used  bool
	at    time.Time
}

type idemEntry struct {
	hash     [32]byte
	ticketID int64
	at       time.Time
}

// change is one entry of the export log: ticket id changed at seq.
type change struct {
	seq uint64
	id  int64
	at  time.Time
}

// New returns an account whose API user is the admin email, accepting its
// API token (Basic "email/token:TOKEN") and the same string as an OAuth
// access token (Bearer TOKEN). It also has one agent, "Sam Staff", whose
// replies the staff methods write.
func New(email, token string) *Server {
	s := &Server{
		email:      email,
		token:      token,
		nextTicket: 1,
		nextUser:   1_000_000,
		nextEvent:  5_000_000,
		tickets:    make(map[int64]*ticketState),
		byExternal: make(map[string][]int64),
		users:      make(map[int64]*User),
		byEmail:    make(map[string]int64),
		byUserExt:  make(map[string]int64),
		uploads:    make(map[string]*upload),
		idem:       make(map[string]*idemEntry),
	}
	// The clock is not read here: a test sets Now after New.
	s.apiUser = s.addUser(User{Name: "Counterdesk API", Email: strings.ToLower(email), Role: RoleAdmin}, time.Time{})
	s.staffUser = s.addUser(User{Name: "Sam Staff", Email: "sam.staff@example.com", Role: RoleAgent}, time.Time{})
	s.handler = s.Faults.Wrap(http.HandlerFunc(s.serve))
	return s
}

// ServeHTTP serves the Zendesk API behind the faults.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// now returns the account's time, whole seconds as Zendesk keeps them,
// never before a time already handed out. The caller holds s.mu.
func (s *Server) now() time.Time {
	n := time.Now
	if s.Now != nil {
		n = s.Now
	}
	t := n().UTC().Truncate(time.Second)
	if t.Before(s.last) {
		t = s.last
	}
	s.last = t
	return t
}

// addUser stores u, made at, with a new id and returns the id. The caller
// holds s.mu or owns s.
func (s *Server) addUser(u User, at time.Time) int64 {
	u.ID = s.nextUser
	s.nextUser++
	u.CreatedAt = at
	s.users[u.ID] = &u
	if u.Email != "" {
		s.byEmail[strings.ToLower(u.Email)] = u.ID
	}
	if u.ExternalID != "" {
		s.byUserExt[strings.ToLower(u.ExternalID)] = u.ID
	}
	return u.ID
}

// touch records a change of tk for the export. The caller holds s.mu.
func (s *Server) touch(tk *ticketState, at time.Time) {
	s.seq++
	tk.seq = s.seq
	tk.UpdatedAt = at
	s.changes = append(s.changes, change{seq: s.seq, id: tk.ID, at: at})
}

func (s *Server) eventID() int64 {
	s.nextEvent++
	return s.nextEvent
}

// The test side of the fake.

// APIUser returns the user the credentials belong to.
func (s *Server) APIUser() User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.users[s.apiUser]
}

// Staff returns the agent whose replies Reply and Note write.
func (s *Server) Staff() User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.users[s.staffUser]
}

// SetAPIRole changes the role of the API user, to test a token of an end
// user or an agent.
func (s *Server) SetAPIRole(role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[s.apiUser].Role = role
}

// Tickets returns every ticket, by id.
func (s *Server) Tickets() []Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Ticket, 0, len(s.tickets))
	for _, tk := range s.tickets {
		out = append(out, snapshot(tk))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// TicketsByExternalID returns the tickets whose external_id is ext, by id:
// more than one is a duplicate.
func (s *Server) TicketsByExternalID(ext string) []Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Ticket
	for _, id := range s.byExternal[ext] {
		out = append(out, snapshot(s.tickets[id]))
	}
	return out
}

// Ticket returns ticket id.
func (s *Server) Ticket(id int64) (Ticket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tk, ok := s.tickets[id]
	if !ok {
		return Ticket{}, false
	}
	return snapshot(tk), true
}

// Comments returns the comments of ticket id, oldest first.
func (s *Server) Comments(id int64) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	tk, ok := s.tickets[id]
	if !ok {
		return nil
	}
	out := make([]Comment, len(tk.comments))
	for i, c := range tk.comments {
		c.Attachments = slices.Clone(c.Attachments)
		out[i] = c
	}
	return out
}

// User returns user id.
func (s *Server) User(id int64) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return User{}, false
	}
	return *u, true
}

// Users returns every user, by id.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Creations returns how many tickets POST /api/v2/tickets made, and how
// many creations were answered from an earlier one by their
// Idempotency-Key.
func (s *Server) Creations() (made, replayed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.made, s.replays
}

// Reply writes a public comment of the staff agent on ticket id, as an
// agent answering in the agent workspace, and returns its id.
func (s *Server) Reply(id int64, body string) (int64, error) {
	return s.comment(id, s.staffUser, body, true)
}

// Note writes an internal note of the staff agent on ticket id.
func (s *Server) Note(id int64, body string) (int64, error) {
	return s.comment(id, s.staffUser, body, false)
}

// CustomerReply writes a public comment of ticket id's requester, as a
// customer answering the email; a pending or solved ticket opens again.
func (s *Server) CustomerReply(id int64, body string) (int64, error) {
	s.mu.Lock()
	tk, ok := s.tickets[id]
	var author int64
	if ok {
		author = tk.RequesterID
	}
	s.mu.Unlock()
	if !ok {
		return 0, fmt.Errorf("zendeskfake: no ticket %d", id)
	}
	return s.comment(id, author, body, true)
}

func (s *Server) comment(id, author int64, body string, public bool) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tk, ok := s.tickets[id]
	switch {
	case !ok:
		return 0, fmt.Errorf("zendeskfake: no ticket %d", id)
	case tk.Status == "closed":
		return 0, fmt.Errorf("zendeskfake: ticket %d is closed", id)
	case len(tk.comments) >= MaxComments:
		return 0, fmt.Errorf("zendeskfake: ticket %d has %d comments", id, MaxComments)
	}
	at := s.now()
	c := Comment{ID: s.eventID(), AuthorID: author, Body: body, Public: public, CreatedAt: at}
	tk.comments = append(tk.comments, c)
	if author == tk.RequesterID && (tk.Status == "pending" || tk.Status == "solved") {
		tk.Status = "open"
	}
	s.touch(tk, at)
	return c.ID, nil
}

// SetStatus changes ticket id's status as an agent would: one of new,
// open, pending, hold, solved and closed.
func (s *Server) SetStatus(id int64, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tk, ok := s.tickets[id]
	switch {
	case !ok:
		return fmt.Errorf("zendeskfake: no ticket %d", id)
	case !slices.Contains(statuses, status):
		return fmt.Errorf("zendeskfake: %q is not a status", status)
	case tk.Status == "closed":
		return fmt.Errorf("zendeskfake: ticket %d is closed", id)
	}
	if tk.Status != status {
		tk.Status = status
		s.touch(tk, s.now())
	}
	return nil
}

func snapshot(tk *ticketState) Ticket {
	t := tk.Ticket
	t.Tags = slices.Clone(t.Tags)
	return t
}

// statuses, priorities: the values Zendesk allows.
var (
	statuses   = []string{"new", "open", "pending", "hold", "solved", "closed"}
	priorities = []string{"urgent", "high", "normal", "low"}
)
