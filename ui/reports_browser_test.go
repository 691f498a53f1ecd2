package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/counterdesk/counterdesk/ticket"
)

// fullShot writes a screenshot of the whole page, not only the viewport,
// to testdata/artifacts/name.
func fullShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
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

// chartsVisible is a script that describes each report chart as the
// browser lays it out: its size, and how many bars and points it drew.
const chartsVisible = `Array.from(document.querySelectorAll('svg.chart')).map(function (s) {
  var r = s.getBoundingClientRect();
  var cs = getComputedStyle(s);
  return {id: s.id, w: r.width, h: r.height, visible: cs.display !== 'none' && cs.visibility !== 'hidden' && r.width > 0 && r.height > 0,
    role: s.getAttribute('role'), title: s.querySelector('title') ? s.querySelector('title').textContent : '',
    bars: s.querySelectorAll('rect.bar').length, dots: s.querySelectorAll('circle.dot').length,
    fill: s.querySelector('rect.bar') ? getComputedStyle(s.querySelector('rect.bar')).fill : ''};
})`

type chartInfo struct {
	ID      string  `json:"id"`
	W       float64 `json:"w"`
	H       float64 `json:"h"`
	Visible bool    `json:"visible"`
	Role    string  `json:"role"`
	Title   string  `json:"title"`
	Bars    int     `json:"bars"`
	Dots    int     `json:"dots"`
	Fill    string  `json:"fill"`
}

// TestReportsBrowser opens the reports page over two weeks of tickets at
// a desktop's size and a phone's, saves screenshots of both, and checks
// that the charts are drawn, visible and coloured by the stylesheet.
func TestReportsBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	today := midnight(time.Now())
	f := newReportFixture(t, today.AddDate(0, 0, -14))
	ctx0 := context.Background()
	chans := []ticket.Channel{ticket.ChannelSMS, ticket.ChannelVoicemail, ticket.ChannelEmail, ticket.ChannelMissedCall, ticket.ChannelWebForm}
	agents := []string{"ann", "bob", "cy"}
	n := 0
	for day := 13; day >= 0; day-- {
		for k := range 2 + (day*7)%5 {
			n++
			at := today.AddDate(0, 0, -day).Add(time.Duration(8+k) * time.Hour)
			setClock(f.clock, at)
			ch := chans[(n+day)%len(chans)]
			in := ticket.Inbound{Channel: ch, SourceKey: fmt.Sprintf("b:%d", n),
				Body: fmt.Sprintf("cat=%s fr=1h res=24h request %d", []string{"repair", "order", "warranty"}[n%3], n)}
			if ch == ticket.ChannelEmail || ch == ticket.ChannelWebForm {
				in.From.Email, in.Subject = fmt.Sprintf("c%d@example.com", n), "Request"
			} else {
				in.From.Phone = fmt.Sprintf("+4477009002%02d", n)
			}
			num := f.ingest(t, in)
			if n%4 == 0 {
				continue // left unassigned and open
			}
			setClock(f.clock, at.Add(10*time.Minute))
			if _, err := f.desk.Assign(ctx0, ticket.Staff("lead"), num, agents[n%3], ""); err != nil {
				t.Fatal(err)
			}
			setClock(f.clock, at.Add(time.Duration(15+n%5*20)*time.Minute))
			if _, err := f.desk.Reply(ctx0, ticket.Staff(agents[n%3]), num, ticket.Reply{Body: "On it."}); err != nil {
				t.Fatal(err)
			}
			if n%3 != 0 {
				setClock(f.clock, at.Add(time.Duration(2+n%7*5)*time.Hour))
				if _, err := f.desk.SetStatus(ctx0, ticket.Staff("lead"), num, ticket.StatusResolved, ""); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	f.srv.opts.Now = time.Now
	if _, err := f.users.Create("till", "agent", "correct horse"); err != nil {
		t.Fatal(err)
	}
	base := f.serve()
	url := fmt.Sprintf("%s/reports?from=%s&to=%s", base, today.AddDate(0, 0, -13).Format(reportDateLayout), today.Format(reportDateLayout))

	for _, size := range []struct {
		w, h int
		shot string
	}{{1280, 900, "reports.png"}, {390, 844, "reports-phone.png"}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			ctx := newBrowser(t, size.w, size.h)
			do(t, ctx, "log in and open the reports",
				chromedp.Navigate(url),
				chromedp.WaitVisible(`input[name=password]`),
				chromedp.SendKeys(`input[name=name]`, "till"),
				chromedp.SendKeys(`input[name=password]`, "correct horse"),
				chromedp.Submit(`input[name=password]`),
				chromedp.WaitVisible(`#volume-chart`),
				chromedp.WaitVisible(`#backlog-chart`),
			)
			fullShot(t, ctx, size.shot)
			charts := value(t, ctx, chromedp.Evaluate[[]chartInfo](chartsVisible))
			if len(charts) != 2 {
				t.Fatalf("%d charts, want 2: %+v", len(charts), charts)
			}
			for _, c := range charts {
				if !c.Visible || c.W < 300 || c.H < 100 || c.Role != "img" || c.Title == "" {
					t.Errorf("chart %+v is not shown, too small or has no role and title", c)
				}
			}
			if charts[0].Bars == 0 || charts[0].Fill == "" || charts[0].Fill == "rgb(0, 0, 0)" {
				t.Errorf("the volume chart has %d bars filled %q: the stylesheet did not colour them", charts[0].Bars, charts[0].Fill)
			}
			if charts[1].Dots != 14 {
				t.Errorf("the backlog chart has %d points, want 14", charts[1].Dots)
			}
			if got := value(t, ctx, chromedp.Text(`#kpi-created`)); got != fmt.Sprint(n) {
				t.Errorf("tickets created %q, want %d", got, n)
			}
			if w := value(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > size.w {
				t.Errorf("the reports page is %d px wide on a %d px screen", w, size.w)
			}
		})
	}
}
