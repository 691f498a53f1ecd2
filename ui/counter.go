package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/gofiber/fiber/v2"
)

// Defaults of the counter form, used where Options leaves them zero.
const (
	DefaultCounterMinFill   = 3 * time.Second
	DefaultCounterMaxAge    = 12 * time.Hour
	DefaultCounterRate      = 30
	DefaultCounterWindow    = time.Hour
	DefaultMaxPhotoBytes    = 8 << 20
	DefaultLoginMaxFailures = 5
	DefaultLoginLockout     = 15 * time.Minute
)

func randomString(n int) (string, error) {
	raw := make([]byte, n)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// validNonce accepts the nonces randomString(16) makes.
func validNonce(s string) bool {
	if len(s) != 22 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// formStamp signs when the counter form with nonce was handed out:
// "<unix seconds>.<HMAC-SHA256>", so the fill time cannot be forged.
func (s *Server) formStamp(nonce string, at time.Time) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return ts + "." + s.stampMAC(nonce, ts)
}

func (s *Server) stampMAC(nonce, ts string) string {
	m := hmac.New(sha256.New, s.formKey)
	m.Write([]byte(nonce + "|" + ts))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// stampTime checks a stamp made by formStamp for nonce and returns the
// time in it.
func (s *Server) stampTime(nonce, stamp string) (time.Time, bool) {
	ts, mac, ok := strings.Cut(stamp, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(s.stampMAC(nonce, ts))) {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}

// counterData is the counter form.
type counterData struct {
	Nonce      string
	Stamp      string
	Name       string
	Phone      string
	Email      string
	Subject    string
	Message    string
	Category   string
	Categories []string
	MaxPhotoMB string
	Number     uint64 // on the confirmation
}

func (s *Server) counterForm(d counterData) (counterData, error) {
	nonce, err := randomString(16)
	if err != nil {
		return d, err
	}
	d.Nonce, d.Stamp = nonce, s.formStamp(nonce, s.now())
	d.Categories = s.opts.Categories
	d.MaxPhotoMB = strconv.FormatFloat(float64(s.opts.MaxPhotoBytes)/(1<<20), 'f', -1, 64)
	return d, nil
}

// counterPage is the public request form for the counter tablet.
func (s *Server) counterPage(c *fiber.Ctx) error {
	d, err := s.counterForm(counterData{})
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "counter", view{Title: "Leave us a request", Data: d})
}

// counterSubmit takes a request from the counter form and opens a
// web_form ticket. It keeps bots out with a honeypot field and a minimum
// time to fill the form, and bounds the requests of one address. The
// form's nonce is the source key: sending the form twice gives one
// ticket, and both answers show its number.
func (s *Server) counterSubmit(c *fiber.Ctx) error {
	d := counterData{
		Nonce:    c.FormValue("nonce"),
		Stamp:    c.FormValue("stamp"),
		Name:     strings.TrimSpace(c.FormValue("name")),
		Phone:    strings.TrimSpace(c.FormValue("phone")),
		Email:    strings.TrimSpace(c.FormValue("email")),
		Subject:  strings.TrimSpace(c.FormValue("subject")),
		Message:  c.FormValue("message"),
		Category: strings.TrimSpace(c.FormValue("category")),
	}
	refuse := func(status int, msg string) error {
		fresh, err := s.counterForm(d)
		if err != nil {
			return err
		}
		return s.render(c, status, "counter", view{Title: "Leave us a request", Error: msg, Data: fresh})
	}
	ip := c.IP()
	if locked, wait := s.counterIPs.Locked(ip); locked {
		s.log.Warn("ui: counter form rate limit reached", "ip", ip)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(wait.Seconds())+1))
		return refuse(fiber.StatusTooManyRequests, "Too many requests were sent from this device. Please ask at the counter.")
	}
	if c.FormValue("website") != "" {
		s.log.Warn("ui: counter form honeypot filled; refused", "ip", ip)
		s.counterIPs.Add(ip)
		return httpError(fiber.StatusBadRequest, "The request could not be accepted.")
	}
	at, ok := s.stampTime(d.Nonce, d.Stamp)
	if !validNonce(d.Nonce) || !ok {
		return refuse(fiber.StatusBadRequest, "The form had expired. Please check your details and send it again.")
	}
	age := s.now().Sub(at)
	switch {
	case age < s.opts.CounterMinFill:
		s.log.Warn("ui: counter form sent too fast; refused", "ip", ip, "after", age)
		s.counterIPs.Add(ip)
		return refuse(fiber.StatusBadRequest, "That was quick! Please check your details and send the form again.")
	case age > DefaultCounterMaxAge:
		return refuse(fiber.StatusBadRequest, "The form had expired. Please check your details and send it again.")
	}
	if d.Phone == "" && d.Email == "" {
		return refuse(fiber.StatusUnprocessableEntity, "Please give a phone number or an email address, so we can answer you.")
	}
	if len(s.opts.Categories) > 0 && d.Category != "" && !slices.Contains(s.opts.Categories, d.Category) {
		return refuse(fiber.StatusUnprocessableEntity, "Please choose one of the listed categories.")
	}
	in := ticket.Inbound{
		Channel:   ticket.ChannelWebForm,
		SourceKey: "counter:" + d.Nonce,
		From:      ticket.From{Name: d.Name, Phone: d.Phone, Email: d.Email},
		Subject:   d.Subject,
		Body:      d.Message,
		NewTicket: true,
	}
	if d.Category != "" {
		in.Meta = ticket.Meta{"category": d.Category}
	}
	photo, msg, err := s.counterPhoto(c)
	if err != nil {
		return err
	}
	if msg != "" {
		return refuse(fiber.StatusUnprocessableEntity, msg)
	}
	if photo != nil {
		in.Attachments = []ticket.NewAttachment{*photo}
	}
	if err := in.Validate(s.desk.Limits()); err != nil {
		if m, ok := formError(err); ok {
			return refuse(fiber.StatusUnprocessableEntity, fieldMessage(err, m))
		}
		return err
	}
	s.counterIPs.Add(ip)
	res, err := s.desk.Ingest(c.UserContext(), in)
	if err != nil {
		if m, ok := formError(err); ok {
			return refuse(fiber.StatusUnprocessableEntity, fieldMessage(err, m))
		}
		return err
	}
	return s.render(c, fiber.StatusOK, "received", view{Title: "Request received", Data: counterData{Number: res.Ticket}})
}

// counterPhoto reads the photo of the counter form, if one was sent. msg
// says what is wrong with it for the person at the form.
func (s *Server) counterPhoto(c *fiber.Ctx) (*ticket.NewAttachment, string, error) {
	fh, err := c.FormFile("photo")
	if err != nil || fh.Size == 0 {
		return nil, "", nil
	}
	if fh.Size > s.opts.MaxPhotoBytes {
		s.log.Warn("ui: counter form photo over the limit", "bytes", fh.Size, "limit", s.opts.MaxPhotoBytes)
		return nil, fmt.Sprintf("The photo is too large: at most %s MB.", strconv.FormatFloat(float64(s.opts.MaxPhotoBytes)/(1<<20), 'f', -1, 64)), nil
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", fmt.Errorf("counter form photo: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, s.opts.MaxPhotoBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("counter form photo: %w", err)
	}
	// The type is sniffed from the bytes (WHATWG MIME Sniffing), not
	// taken from the browser's word.
	ct := http.DetectContentType(data)
	if !strings.HasPrefix(ct, "image/") {
		return nil, "The attachment must be a photo (JPEG, PNG, GIF or WebP).", nil
	}
	name := filepath.Base(strings.ReplaceAll(fh.Filename, `\`, "/"))
	if name == "." || name == "/" || name == "" {
		name = "photo"
	}
	return &ticket.NewAttachment{Name: name, ContentType: ct, Data: data}, "", nil
}
