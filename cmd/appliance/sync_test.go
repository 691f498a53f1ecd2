package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/sync/webhook/webhookfake"
	"github.com/counterdesk/counterdesk/sync/zendesk/zendeskfake"
)

// healthOf returns the appliance's /healthz subsystems.
func healthOf(t *testing.T, addr string) map[string]health.Status {
	t.Helper()
	r, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var h struct {
		Subsystems map[string]health.Status `json:"subsystems"`
	}
	if err := json.NewDecoder(r.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h.Subsystems
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The running appliance copies tickets made through its API to a webhook
// whose secret comes from a systemd credential, shows the receiver being
// down on /healthz, drains the queue when it is back, and never logs the
// secret.
func TestApplianceCopiesToWebhook(t *testing.T) {
	const secret = "whsec-7f3a9c1e5b2d4f6a8c0e1f2a3b4c5d6e"
	recv := webhookfake.New(secret)
	srv := httptest.NewServer(recv)
	defer srv.Close()

	bin := buildBinary(t)
	data := t.TempDir()
	creds := t.TempDir()
	if err := os.WriteFile(filepath.Join(creds, "sync-shop-server"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "counterdesk.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`[sync]
timeout = "5s"

[[sync.targets]]
type = "webhook"
name = "shop-server"
base_url = %q
tags = ["counter"]
`, srv.URL+"/hooks/counterdesk")), 0o600); err != nil {
		t.Fatal(err)
	}
	token, _, code := cli(t, bin, "token", "create", "sync-test", "--role", "admin", "--data", data)
	if code != 0 {
		t.Fatalf("token create exited %d", code)
	}
	a := start(t, bin, data, "COUNTERDESK_CONFIG="+cfg, "CREDENTIALS_DIRECTORY="+creds)
	defer a.kill()
	c := &api{addr: a.addr, token: strings.TrimSpace(token), client: &http.Client{Timeout: 5 * time.Second}}

	first, status, err := c.create("k1", "Swollen LiPo after charging")
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, err)
	}
	eventually(t, "the first ticket at the receiver", func() bool { return len(recv.EventsFor(first.Ticket.UUID)) == 1 })
	ev := recv.EventsFor(first.Ticket.UUID)[0]
	if ev.Type != "ticket.created" || ev.Ticket.Subject != "Swollen LiPo after charging" || ev.Message == nil {
		t.Errorf("event = %+v", ev)
	}

	// The receiver goes away: tickets queue, and /healthz says so.
	recv.Faults.SetDown(true)
	var queued []string
	for i := range 5 {
		cr, status, err := c.create(fmt.Sprint("k-down-", i), fmt.Sprint("Prop order ", i))
		if err != nil || status != http.StatusCreated {
			t.Fatalf("create while down: %d %v", status, err)
		}
		queued = append(queued, cr.Ticket.UUID)
	}
	eventually(t, "/healthz to show the receiver offline", func() bool {
		s := healthOf(t, a.addr)["sync shop-server"]
		return s.State == health.Degraded && strings.Contains(s.Detail, "offline since")
	})
	recv.Faults.SetDown(false)
	eventually(t, "the queue to drain", func() bool {
		for _, uuid := range queued {
			if len(recv.EventsFor(uuid)) != 1 {
				return false
			}
		}
		return healthOf(t, a.addr)["sync shop-server"].State == health.OK
	})
	if p := recv.Problems(); len(p) > 0 {
		t.Errorf("receiver problems: %v", p)
	}
	a.stop(t)
	if strings.Contains(a.logs.String(), secret) {
		t.Errorf("the webhook secret reached the log:\n%s", a.logs)
	}
}

// Tickets queued while Zendesk is unreachable reach it once each when it
// is back, although the appliance is killed (SIGKILL) halfway through the
// drain: a creation the box did not learn of is found by its external_id.
func TestApplianceKilledMidwayMakesNoDuplicates(t *testing.T) {
	const token = "zd-kill-token-9921"
	fake := zendeskfake.New("owner@shop.example", token)
	fake.Faults.SetDown(true)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	bin := buildBinary(t)
	data := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "counterdesk.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`[sync]
parallel = 8

[[sync.targets]]
type = "zendesk"
name = "zendesk"
base_url = %q
email = "owner@shop.example"
`, srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	apiToken, _, code := cli(t, bin, "token", "create", "kill-test", "--role", "admin", "--data", data)
	if code != 0 {
		t.Fatalf("token create exited %d", code)
	}
	env := []string{"COUNTERDESK_CONFIG=" + cfg, "COUNTERDESK_STORE_THREAD_WINDOW=1ns"}
	creds := t.TempDir()
	os.WriteFile(filepath.Join(creds, "sync-zendesk"), []byte(token), 0o600)
	env = append(env, "CREDENTIALS_DIRECTORY="+creds)
	a := start(t, bin, data, env...)
	c := &api{addr: a.addr, token: strings.TrimSpace(apiToken), client: &http.Client{Timeout: 5 * time.Second}}
	const tickets = 300
	var uuids []string
	for i := range tickets {
		cr, status, err := c.create(fmt.Sprint("kill-", i), fmt.Sprint("Spare prop ", i))
		if err != nil || status != http.StatusCreated {
			t.Fatalf("create %d: %d %v", i, status, err)
		}
		uuids = append(uuids, cr.Ticket.UUID)
	}
	fake.Faults.SetDelay(5 * time.Millisecond)
	fake.Faults.SetDown(false)
	eventually(t, "a part of the queue to reach Zendesk", func() bool { made, _ := fake.Creations(); return made >= tickets/3 })
	a.kill()
	made, _ := fake.Creations()
	t.Logf("killed after %d of %d tickets reached Zendesk", made, tickets)
	logs := a.logs.String()

	a = start(t, bin, data, env...)
	defer a.kill()
	eventually(t, "every ticket in Zendesk", func() bool { made, _ := fake.Creations(); return made >= tickets })
	eventually(t, "the queue to drain", func() bool {
		s := healthOf(t, a.addr)["sync zendesk"]
		return s.State == health.OK && strings.Contains(s.Detail, " 0 queued")
	})
	for _, uuid := range uuids {
		if n := len(fake.TicketsByExternalID(uuid)); n != 1 {
			t.Errorf("ticket %s is %d times in Zendesk", uuid, n)
		}
	}
	if made, _ := fake.Creations(); made != tickets {
		t.Errorf("%d tickets made in Zendesk for %d on the box", made, tickets)
	}
	a.stop(t)
	if strings.Contains(logs+a.logs.String(), token) {
		t.Error("the Zendesk token reached the log")
	}
}
