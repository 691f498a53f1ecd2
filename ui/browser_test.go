package ui

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/counterdesk/counterdesk/ticket"
)

// chromiumPath finds the Debian chromium. Without it the browser tests
// skip on a laptop and fail in CI (CI=true), where make check installs
// it.
func chromiumPath(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; make check installs it (apt-get install chromium chromium-driver)")
	}
	t.Skip("chromium is not installed")
	return ""
}

// newBrowser starts a headless chromium with a fresh profile and a
// viewport of w x h.
func newBrowser(t *testing.T, w, h int) context.Context {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(w, h),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(w), int64(h))); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// shot writes a screenshot of the page to testdata/artifacts/name.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("testdata", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// do runs steps, failing the test with what was being done.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

// value runs one action that gives a value.
func value[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// silentWAV is half a second of 8 kHz 16-bit mono silence.
func silentWAV() []byte {
	const rate, samples = 8000, 4000
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + samples*2))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))
	le(uint16(1))
	le(uint32(rate))
	le(uint32(rate * 2))
	le(uint16(2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(samples * 2))
	b.Write(make([]byte, samples*2))
	return b.Bytes()
}

// TestBrowser drives the pages as the staff do: onboarding, login, a new
// SMS that appears live in the list, the ticket, a reply that resolves
// it, the voicemail player, and the counter form.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	f := newWebFixture(t, func(o *Options) { o.CounterMinFill = 300 * time.Millisecond; o.Now = nil })
	base := f.serve()
	ctx := newBrowser(t, 1280, 900)

	do(t, ctx, "onboarding",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`input[name=password2]`),
	)
	if loc := value(t, ctx, chromedp.Location()); !strings.HasSuffix(loc, "/setup") {
		t.Fatalf("a new appliance opens %s, want /setup", loc)
	}
	do(t, ctx, "create the first admin",
		chromedp.SendKeys(`input[name=name]`, "ann"),
		chromedp.SendKeys(`input[name=password]`, "correct horse"),
		chromedp.SendKeys(`input[name=password2]`, "correct horse"),
		chromedp.Submit(`input[name=password2]`),
		chromedp.WaitVisible(`#tickets`),
		chromedp.Click(`form[action="/logout"] button`),
		chromedp.WaitVisible(`input[name=password]`),
	)
	do(t, ctx, "log in",
		chromedp.SendKeys(`input[name=name]`, "ann"),
		chromedp.SendKeys(`input[name=password]`, "correct horse"),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`#tickets[data-live="on"]`),
		chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`),
	)

	// A message with markup and script shows as text and runs nothing.
	evil := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelEmail, From: ticket.From{Email: "m@example.com"},
		Subject: "<img src=x onerror=\"window.pwned=1\">", Body: "<script>window.pwned=1</script><b>bold</b>"})
	// A new SMS appears in the open list without a reload.
	n := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelSMS, From: ticket.From{Phone: "+447700900123", Name: "Kim"},
		Body: "Is my Spitfire kit in stock?", SourceKey: "sms:test:1"})
	do(t, ctx, "the SMS appears live",
		chromedp.WaitVisible(fmt.Sprintf(`#t-%d`, n)),
		chromedp.WaitVisible(fmt.Sprintf(`#t-%d`, evil)),
	)
	if !value(t, ctx, chromedp.Evaluate[bool](`window.notReloaded === true`)) {
		t.Error("the list reloaded instead of updating in place")
	}
	if value(t, ctx, chromedp.Evaluate[string](`String(window.pwned)`)) != "undefined" {
		t.Error("markup in a subject ran script in the list")
	}
	shot(t, ctx, "list.png")

	do(t, ctx, "open the ticket and reply",
		chromedp.Click(fmt.Sprintf(`#t-%d td.subject a`, n)),
		chromedp.WaitVisible(`#reply textarea`),
		chromedp.SendKeys(`#reply textarea`, "Yes, we have two left."),
		chromedp.SetValue(`#reply select[name=status]`, "resolved"),
		chromedp.Click(`#reply button[type=submit]`),
		chromedp.WaitVisible(`.msg.outbound`),
	)
	shot(t, ctx, "ticket.png")
	if tk, _ := f.desk.Get(n); tk.Status != ticket.StatusResolved {
		t.Errorf("status after reply and resolve: %s", tk.Status)
	}

	do(t, ctx, "open the ticket with markup",
		chromedp.Navigate(fmt.Sprintf("%s/tickets/%d", base, evil)),
		chromedp.WaitVisible(`.msg .body`),
	)
	text := value(t, ctx, chromedp.Text(`.msg .body`))
	if pwned := value(t, ctx, chromedp.Evaluate[string](`String(window.pwned)`)); pwned != "undefined" || !strings.Contains(text, "<script>window.pwned=1</script>") {
		t.Errorf("script ran (%s) or the text is not shown as it is: %q", pwned, text)
	}

	vm := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelVoicemail, From: ticket.From{Phone: "+447700900124"},
		Transcript: "Hello, call me back please", Attachments: []ticket.NewAttachment{{Name: "voicemail.wav", ContentType: "audio/wav", Data: silentWAV()}}})
	do(t, ctx, "open the voicemail",
		chromedp.Navigate(fmt.Sprintf("%s/tickets/%d", base, vm)),
		chromedp.WaitReady(`audio`),
	)
	for i := 0; value(t, ctx, chromedp.Evaluate[int](`document.querySelector('audio').readyState`)) < 1; i++ {
		if i == 100 {
			t.Fatal("the voicemail's audio never loaded")
		}
		time.Sleep(100 * time.Millisecond)
	}
	duration := value(t, ctx, chromedp.Evaluate[float64](`document.querySelector('audio').duration`))
	if duration < 0.4 || duration > 0.6 {
		t.Errorf("voicemail duration %v, want 0.5 s", duration)
	}
	if !value(t, ctx, chromedp.Evaluate[bool](`document.querySelector('audio').play().then(() => true)`, chromedp.EvalAwaitPromise)) {
		t.Error("the voicemail did not play")
	}
	shot(t, ctx, "voicemail.png")

	do(t, ctx, "counter form",
		chromedp.Navigate(base+"/counter"),
		chromedp.WaitVisible(`#counter`),
		chromedp.SendKeys(`#counter input[name=name]`, "Alex"),
		chromedp.SendKeys(`#counter input[name=email]`, "alex@example.com"),
		chromedp.SendKeys(`#counter input[name=subject]`, "Wing repair"),
		chromedp.SendKeys(`#counter textarea[name=message]`, "The left wing cracked."),
		chromedp.SetValue(`#counter select[name=category]`, "repair"),
		chromedp.Sleep(400*time.Millisecond),
		chromedp.Click(`#counter button[type=submit]`),
		chromedp.WaitVisible(`.received`),
	)
	shot(t, ctx, "counter.png")
	text = value(t, ctx, chromedp.Text(`.received`))
	if !strings.HasPrefix(text, "We received your request #") {
		t.Errorf("confirmation %q", text)
	}
	page, _ := f.desk.List(ticket.Filter{Channel: ticket.ChannelWebForm})
	if len(page.Tickets) != 1 || !strings.Contains(text, page.Tickets[0].Ref()) {
		t.Errorf("web form tickets %+v, confirmation %q", page.Tickets, text)
	}
}

// TestBrowserPhone runs the list and a ticket at a phone's size.
func TestBrowserPhone(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	f := newWebFixture(t, func(o *Options) { o.Now = nil })
	base := f.serve()
	if _, err := f.users.Create("till", "agent", "correct horse"); err != nil {
		t.Fatal(err)
	}
	n := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelSMS, From: ticket.From{Phone: "+447700900123"}, Body: "Do you sell LiPo chargers?"})
	ctx := newBrowser(t, 390, 844)
	do(t, ctx, "log in on a phone",
		chromedp.Navigate(base+"/tickets"),
		chromedp.WaitVisible(`input[name=password]`),
		chromedp.SendKeys(`input[name=name]`, "till"),
		chromedp.SendKeys(`input[name=password]`, "correct horse"),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(fmt.Sprintf(`#t-%d`, n)),
	)
	shot(t, ctx, "list-phone.png")
	if w := value(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("the list is %d px wide on a 390 px screen", w)
	}
	do(t, ctx, "a ticket on a phone",
		chromedp.Click(fmt.Sprintf(`#t-%d td.subject a`, n)),
		chromedp.WaitVisible(`#reply textarea`),
	)
	shot(t, ctx, "ticket-phone.png")
	if w := value(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("the ticket page is %d px wide on a 390 px screen", w)
	}
}
