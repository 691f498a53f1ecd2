package config

import (
	"encoding"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // zones such as Europe/London, wherever the tests run
)

func TestExampleIsDefault(t *testing.T) {
	got, err := Parse(Example())
	if err != nil {
		t.Fatalf("Parse(Example()): %v", err)
	}
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(Example()) = %+v\nwant Default() = %+v", got, want)
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
}

func TestExampleDocumentsEveryKey(t *testing.T) {
	example := Example()
	lines, problems := scan(example)
	if len(problems) > 0 {
		t.Fatalf("scan(Example()) problems: %v", problems)
	}
	text := strings.Split(string(example), "\n")
	for _, s := range settings() {
		line, ok := lines[s.key()]
		if !ok {
			t.Errorf("example does not set %s", s.key())
			continue
		}
		if line < 2 || !strings.HasPrefix(text[line-2], "#") {
			t.Errorf("example line %d: %s has no comment above it", line, s.key())
		}
	}
	n := 0
	for key := range lines {
		if t, _ := lookup(strings.Split(key, ".")); !strings.Contains(key, "[") && !isArray(t) {
			n++
		}
	}
	if n != len(settings()) {
		t.Errorf("example sets %d keys outside arrays of tables, Config has %d", n, len(settings()))
	}

	// The keys of arrays of tables are documented where they first appear,
	// or shown in a comment when the example has no element of the array.
	first := make(map[string]int)
	for key, line := range lines {
		k := indexRE.ReplaceAllString(key, "")
		if f, ok := first[k]; !ok || line < f {
			first[k] = line
		}
	}
	for _, key := range arrayKeys() {
		line, ok := first[key]
		if !ok {
			array, name := key[:strings.LastIndex(key, ".")], key[strings.LastIndex(key, ".")+1:]
			if !strings.Contains(string(example), "# [["+array+"]]\n") || !strings.Contains(string(example), "\n# "+name+" = ") {
				t.Errorf("example neither sets nor shows %s", key)
			}
			continue
		}
		if line < 2 || !strings.HasPrefix(text[line-2], "#") {
			t.Errorf("example line %d: %s has no comment above it", line, key)
		}
	}
}

// indexRE matches the index of an element of an array of tables in a key.
var indexRE = regexp.MustCompile(`\[\d+\]`)

// arrayKeys returns the keys in the elements of arrays of tables, without
// indexes: "triage.categories.name", "automations.if.channel".
func arrayKeys() []string {
	var keys []string
	var walk func(t reflect.Type, path string, inArray bool)
	walk = func(t reflect.Type, path string, inArray bool) {
		for i := range t.NumField() {
			name, ok := tomlName(t.Field(i))
			if !ok {
				continue
			}
			ft, p := t.Field(i).Type, strings.TrimPrefix(path+"."+name, ".")
			switch {
			case isArray(ft):
				walk(ft.Elem(), p, true)
			case isTable(ft):
				walk(ft, p, inArray)
			case inArray:
				keys = append(keys, p)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "", false)
	return keys
}

func TestSettingsHaveDistinctEnvNames(t *testing.T) {
	seen := make(map[string]string)
	for _, s := range settings() {
		if other, ok := seen[s.env()]; ok {
			t.Errorf("%s and %s are both set by %s", other, s.key(), s.env())
		}
		seen[s.env()] = s.key()
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		file string
		want func(*Config)
	}{
		{"empty", "", func(*Config) {}},
		{
			name: "tables",
			file: "[shop]\nname = \"Wings & Things\"\ntime_zone = \"Europe/London\"\n\n[store]\nthread_window = \"24h\"\nmax_attachment_bytes = 1_000\n",
			want: func(c *Config) {
				c.Shop.Name = "Wings & Things"
				c.Shop.TimeZone = "Europe/London"
				c.Store.ThreadWindow = Duration{24 * time.Hour}
				c.Store.MaxAttachmentBytes = 1000
			},
		},
		{
			name: "dotted keys",
			file: "http.listen = \"127.0.0.1:9000\"\nlog.level = \"debug\"\n",
			want: func(c *Config) {
				c.HTTP.Listen = "127.0.0.1:9000"
				c.Log.Level = "debug"
			},
		},
		{
			name: "inline table",
			file: "outbox = { max_attempts = 3, lease = \"30s\" }\n",
			want: func(c *Config) {
				c.Outbox.MaxAttempts = 3
				c.Outbox.Lease = Duration{30 * time.Second}
			},
		},
		{
			name: "crlf",
			file: "[log]\r\nformat = \"json\"\r\n",
			want: func(c *Config) { c.Log.Format = "json" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := Default()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse = %+v\nwant %+v", got, want)
			}
		})
	}
}

// problem is the part of a Problem that tests compare: the message only
// has to contain the given text.
type problem struct {
	line    int
	key     string
	message string
}

func checkProblems(t *testing.T, err error, file string, want []problem) {
	t.Helper()
	var ps *Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error = %v (%T), want *Problems", err, err)
	}
	if ps.File != file {
		t.Errorf("File = %q, want %q", ps.File, file)
	}
	if len(ps.List) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps.List), len(want), err)
	}
	for i, w := range want {
		g := ps.List[i]
		if g.Line != w.line || g.Key != w.key || !strings.Contains(g.Message, w.message) {
			t.Errorf("problem %d = %d %q %q, want %d %q containing %q", i, g.Line, g.Key, g.Message, w.line, w.key, w.message)
		}
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []problem
	}{
		{
			name: "unknown key",
			file: "[shop]\nname = \"x\"\ncolour = \"red\"\n",
			want: []problem{{3, "shop.colour", "unknown key"}},
		},
		{
			name: "two unknown keys",
			file: "[http]\nlistenn = \":80\"\n\n[log]\nlevel = \"info\"\nformatt = \"json\"\n",
			want: []problem{{2, "http.listenn", "unknown key"}, {6, "log.formatt", "unknown key"}},
		},
		{
			name: "unknown table",
			file: "# comment\n[shopp]\nname = \"x\"\n",
			want: []problem{{2, "shopp", "unknown table"}},
		},
		{
			name: "unknown key at top level",
			file: "listen = \":80\"\n",
			want: []problem{{1, "listen", "unknown key"}},
		},
		{
			name: "unknown key in inline table",
			file: "\nhttp = { listen = \":80\", port = 80 }\n",
			want: []problem{{2, "http.port", "unknown key"}},
		},
		{
			name: "setting used as a table",
			file: "[http.listen]\nport = 80\n",
			want: []problem{{1, "http.listen", "not a table"}},
		},
		{
			name: "array of tables",
			file: "[[shop]]\nname = \"x\"\n",
			want: []problem{{1, "shop", "not an array of tables"}},
		},
		{
			name: "table given a value",
			file: "shop = \"x\"\n",
			want: []problem{{1, "shop", "must be a table"}},
		},
		{
			name: "syntax error",
			file: "[http]\nlisten = \":80\"\nmax_body_bytes = = 5\n",
			want: []problem{{3, "", "syntax error"}},
		},
		{
			name: "unterminated string",
			file: "[shop]\n\nname = \"Wings\n",
			want: []problem{{3, "", "syntax error"}},
		},
		{
			name: "unknown key before syntax error",
			file: "[shop]\nnam = \"x\"\n[http\n",
			want: []problem{{2, "shop.nam", "unknown key"}, {3, "", "syntax error"}},
		},
		{
			name: "string wanted",
			file: "[http]\n\nlisten = 5\n",
			want: []problem{{3, "http.listen", "must be a string in quotes, not an integer"}},
		},
		{
			name: "duration wanted",
			file: "[store]\nthread_window = 72\n",
			want: []problem{{2, "store.thread_window", "must be a duration"}},
		},
		{
			name: "invalid duration",
			file: "[store]\nthread_window = \"3 days\"\n",
			want: []problem{{2, "store.thread_window", `invalid duration "3 days"`}},
		},
		{
			name: "integer wanted",
			file: "[outbox]\nmax_attempts = \"5\"\nmax_pending = 1.5\n",
			want: []problem{
				{2, "outbox.max_attempts", "must be an integer, not a string"},
				{3, "outbox.max_pending", "must be an integer, not a number"},
			},
		},
		{
			name: "integer out of range",
			file: "[store]\nmax_attachment_bytes = 99999999999999999999\n",
			want: []problem{{2, "store.max_attachment_bytes", "out of range"}},
		},
		{
			name: "set twice",
			file: "[log]\nlevel = \"info\"\nlevel = \"debug\"\n",
			want: []problem{{3, "log.level", "first set on line 2"}},
		},
		{
			name: "set twice by dotted key",
			file: "log.level = \"info\"\n[log]\nlevel = \"debug\"\n",
			want: []problem{{3, "log.level", "first set on line 1"}},
		},
		{
			name: "table defined twice",
			file: "[log]\nlevel = \"info\"\n[log]\nformat = \"json\"\n",
			want: []problem{{3, "log", ""}},
		},
		{
			name: "all structural problems at once",
			file: "[http]\nlisten = 5\nread_timeout = \"soon\"\ncolour = 1\n",
			want: []problem{
				{2, "http.listen", "must be a string"},
				{3, "http.read_timeout", "invalid duration"},
				{4, "http.colour", "unknown key"},
			},
		},
		{
			name: "listen not host:port",
			file: "[http]\n# where to listen\nlisten = \"nope\"\n",
			want: []problem{{3, "http.listen", "must be host:port"}},
		},
		{
			name: "listen port out of range",
			file: "http.listen = \":65536\"\n",
			want: []problem{{1, "http.listen", "port must be a number"}},
		},
		{
			name: "backoff max below base",
			file: "[outbox]\nbackoff_base = \"1m\"\nbackoff_max = \"30s\"\n",
			want: []problem{{3, "outbox.backoff_max", "must not be less than outbox.backoff_base"}},
		},
		{
			name: "default backoff max below base",
			file: "[outbox]\nbackoff_base = \"2h\"\n",
			want: []problem{{0, "outbox.backoff_max", "must not be less than outbox.backoff_base"}},
		},
		{
			name: "bad time zone",
			file: "[shop]\ntime_zone = \"Europe/Londn\"\n",
			want: []problem{{2, "shop.time_zone", "unknown time zone"}},
		},
		{
			name: "bad region",
			file: "[shop]\ndefault_region = \"gbr\"\n",
			want: []problem{{2, "shop.default_region", "two capital letters"}},
		},
		{
			name: "every invalid value",
			file: "[store]\nmax_message_bytes = 0\nmax_attachments = 1001\nbatch_delay = \"2s\"\n[log]\nlevel = \"loud\"\nformat = \"xml\"\n",
			want: []problem{
				{2, "store.max_message_bytes", "must be from 1 to 1048576, not 0"},
				{3, "store.max_attachments", "must be from 1 to 1000, not 1001"},
				{4, "store.batch_delay", "must be from 0s to 1s, not 2s"},
				{6, "log.level", `not "loud"`},
				{7, "log.format", `not "xml"`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.file))
			checkProblems(t, err, "", tt.want)
			if !reflect.DeepEqual(c, Config{}) {
				t.Errorf("Parse returned %+v with an error, want the zero Config", c)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   []problem
	}{
		{"default", func(*Config) {}, nil},
		{"empty name", func(c *Config) { c.Shop.Name = "" }, []problem{{0, "shop.name", "must not be empty"}}},
		{"empty time zone", func(c *Config) { c.Shop.TimeZone = "" }, []problem{{0, "shop.time_zone", "must not be empty"}}},
		{"region", func(c *Config) { c.Shop.DefaultRegion = "gb" }, []problem{{0, "shop.default_region", `not "gb"`}}},
		{"empty data dir", func(c *Config) { c.Store.DataDir = "" }, []problem{{0, "store.data_dir", "must not be empty"}}},
		{"zero thread window", func(c *Config) { c.Store.ThreadWindow = Duration{} }, []problem{{0, "store.thread_window", "more than 0s"}}},
		{"attachment too large", func(c *Config) { c.Store.MaxAttachmentBytes = 1<<30 + 1 }, []problem{{0, "store.max_attachment_bytes", "from 1 to 1073741824"}}},
		{"feed buffer", func(c *Config) { c.Store.FeedBuffer = 0 }, []problem{{0, "store.feed_buffer", "from 1 to 100000"}}},
		{"negative batch delay", func(c *Config) { c.Store.BatchDelay = Duration{-time.Millisecond} }, []problem{{0, "store.batch_delay", "from 0s to 1s"}}},
		{"max attempts", func(c *Config) { c.Outbox.MaxAttempts = 0 }, []problem{{0, "outbox.max_attempts", "from 1 to 1000"}}},
		{"short lease", func(c *Config) { c.Outbox.Lease = Duration{time.Millisecond} }, []problem{{0, "outbox.lease", "from 1s to 1h, not 1ms"}}},
		{
			name:   "zero backoff",
			change: func(c *Config) { c.Outbox.BackoffBase = Duration{} },
			want:   []problem{{0, "outbox.backoff_base", "more than 0s"}},
		},
		{"max pending", func(c *Config) { c.Outbox.MaxPending = 10000001 }, []problem{{0, "outbox.max_pending", "from 1 to 10000000"}}},
		{"listen without port", func(c *Config) { c.HTTP.Listen = "localhost" }, []problem{{0, "http.listen", "host:port"}}},
		{"listen named port", func(c *Config) { c.HTTP.Listen = ":http" }, []problem{{0, "http.listen", "port must be a number"}}},
		{"listen ipv6", func(c *Config) { c.HTTP.Listen = "[::1]:0" }, nil},
		{"small body", func(c *Config) { c.HTTP.MaxBodyBytes = 1023 }, []problem{{0, "http.max_body_bytes", "from 1024"}}},
		{
			name: "timeouts",
			change: func(c *Config) {
				c.HTTP.ReadTimeout = Duration{}
				c.HTTP.WriteTimeout = Duration{-time.Second}
			},
			want: []problem{{0, "http.read_timeout", "more than 0s"}, {0, "http.write_timeout", "more than 0s"}},
		},
		{"log level case", func(c *Config) { c.Log.Level = "INFO" }, []problem{{0, "log.level", `not "INFO"`}}},
		{"tls mode", func(c *Config) { c.HTTP.TLS = "on" }, []problem{{0, "http.tls", `not "on"`}}},
		{
			name:   "tls files need both",
			change: func(c *Config) { c.HTTP.TLS = "files" },
			want:   []problem{{0, "http.cert_file", "certificate"}, {0, "http.key_file", "private key"}},
		},
		{"sip mode", func(c *Config) { c.SIP.Mode = "trunk" }, []problem{{0, "sip.mode", `not "trunk"`}}},
		{"sip off skips the rest", func(c *Config) { c.SIP.Mode = "off"; c.SIP.Listen = "bad" }, nil},
		{"sip no transport", func(c *Config) { c.SIP.UDP, c.SIP.TCP = false, false }, []problem{{0, "sip.tcp", "at least one transport"}}},
		{"sip public address with port", func(c *Config) { c.SIP.PublicAddress = "203.0.113.5:5060" }, []problem{{0, "sip.public_address", "without a port"}}},
		{"sip rtp range too small", func(c *Config) { c.SIP.RTPPortMax = c.SIP.RTPPortMin + 4 }, []problem{{0, "sip.rtp_port_max", "holds 3 even ports, fewer than max_calls (8)"}}},
		{"sip rtp range reversed", func(c *Config) { c.SIP.RTPPortMax = 2000 }, []problem{{0, "sip.rtp_port_max", "must not be less than sip.rtp_port_min"}}},
		{"sip greeting not wav", func(c *Config) { c.SIP.Greeting = "/srv/hello.mp3" }, []problem{{0, "sip.greeting", "a .wav file"}}},
		{"sip silence", func(c *Config) { c.SIP.SilenceSeconds = 1 }, []problem{{0, "sip.silence_seconds", "from 2 to 60"}}},
		{
			name:   "sip register needs a registrar and a user",
			change: func(c *Config) { c.SIP.Mode = "register" },
			want:   []problem{{0, "sip.registrar", "must be a SIP URI"}, {0, "sip.username", "user name"}},
		},
		{
			name: "sip register",
			change: func(c *Config) {
				c.SIP.Mode, c.SIP.Registrar, c.SIP.Username, c.SIP.Password = "register", "sip:pbx.local:5060;transport=tcp", "201", "s3cret"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			checkProblems(t, err, "", tt.want)
		})
	}
}

func TestLoad(t *testing.T) {
	const file = "[http]\nlisten = \":8081\"\n\n[outbox]\nmax_attempts = 3\n"
	tests := []struct {
		name    string
		file    string // "" for no file
		environ []string
		want    func(*Config)
	}{
		{name: "defaults", want: func(*Config) {}},
		{
			name:    "string, int and duration",
			environ: []string{"COUNTERDESK_HTTP_LISTEN=127.0.0.1:9000", "COUNTERDESK_OUTBOX_MAX_ATTEMPTS=5", "COUNTERDESK_STORE_THREAD_WINDOW=24h"},
			want: func(c *Config) {
				c.HTTP.Listen = "127.0.0.1:9000"
				c.Outbox.MaxAttempts = 5
				c.Store.ThreadWindow = Duration{24 * time.Hour}
			},
		},
		{
			name:    "int64 and value with =",
			environ: []string{"COUNTERDESK_STORE_MAX_ATTACHMENT_BYTES=1048576", "COUNTERDESK_SHOP_NAME=A=B Models"},
			want: func(c *Config) {
				c.Store.MaxAttachmentBytes = 1 << 20
				c.Shop.Name = "A=B Models"
			},
		},
		{
			name: "file",
			file: file,
			want: func(c *Config) {
				c.HTTP.Listen = ":8081"
				c.Outbox.MaxAttempts = 3
			},
		},
		{
			name:    "environment wins over file",
			file:    file,
			environ: []string{"COUNTERDESK_OUTBOX_MAX_ATTEMPTS=7"},
			want: func(c *Config) {
				c.HTTP.Listen = ":8081"
				c.Outbox.MaxAttempts = 7
			},
		},
		{
			name:    "later variable wins",
			environ: []string{"COUNTERDESK_LOG_LEVEL=warn", "COUNTERDESK_LOG_LEVEL=debug"},
			want:    func(c *Config) { c.Log.Level = "debug" },
		},
		{
			name:    "other variables ignored",
			environ: []string{"HOME=/root", "PATH=/bin", "counterdesk_log_level=loud", "COUNTERDESK", EnvFile + "=/etc/counterdesk.toml"},
			want:    func(*Config) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, tt.file)
			}
			got, err := Load(path, tt.environ)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := Default()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load = %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name    string
		file    string // "" for no file
		environ []string
		want    []Problem
	}{
		{
			name:    "unknown variable",
			environ: []string{"COUNTERDESK_FOO_BAR=1", "COUNTERDESK_HTTP=x"},
			want: []Problem{
				{Key: "COUNTERDESK_FOO_BAR", Message: "unknown environment variable", Source: SourceEnv},
				{Key: "COUNTERDESK_HTTP", Message: "unknown environment variable", Source: SourceEnv},
			},
		},
		{
			name:    "bad values",
			environ: []string{"COUNTERDESK_OUTBOX_MAX_ATTEMPTS=many", "COUNTERDESK_STORE_MAX_ATTACHMENT_BYTES=99999999999999999999", "COUNTERDESK_HTTP_READ_TIMEOUT=30"},
			want: []Problem{
				{Key: "COUNTERDESK_HTTP_READ_TIMEOUT", Message: `invalid duration "30": want a number and a unit, such as "90s", "15m" or "72h"`, Source: SourceEnv},
				{Key: "COUNTERDESK_OUTBOX_MAX_ATTEMPTS", Message: `invalid number "many"`, Source: SourceEnv},
				{Key: "COUNTERDESK_STORE_MAX_ATTACHMENT_BYTES", Message: "number 99999999999999999999 is out of range", Source: SourceEnv},
			},
		},
		{
			name:    "invalid value from environment",
			environ: []string{"COUNTERDESK_SHOP_DEFAULT_REGION=gbr"},
			want: []Problem{
				{Key: "COUNTERDESK_SHOP_DEFAULT_REGION", Message: `must be two capital letters (an ISO 3166-1 alpha-2 code such as "GB"), not "gbr"`, Source: SourceEnv},
			},
		},
		{
			name:    "invalid values from file and environment",
			file:    "[outbox]\nbackoff_base = \"1m\"\nmax_attempts = 0\n",
			environ: []string{"COUNTERDESK_OUTBOX_BACKOFF_MAX=30s"},
			want: []Problem{
				{Key: "COUNTERDESK_OUTBOX_BACKOFF_MAX", Message: "must not be less than outbox.backoff_base (1m), not 30s", Source: SourceEnv},
				{Line: 3, Key: "outbox.max_attempts", Message: "must be from 1 to 1000, not 0"},
			},
		},
		{
			name:    "environment fixes invalid file value",
			file:    "[outbox]\nmax_attempts = 0\n",
			environ: []string{"COUNTERDESK_OUTBOX_MAX_ATTEMPTS=4", "COUNTERDESK_LOG_LEVEL=loud"},
			want: []Problem{
				{Key: "COUNTERDESK_LOG_LEVEL", Message: `must be one of "debug", "info", "warn", "error", not "loud"`, Source: SourceEnv},
			},
		},
		{
			name:    "file and environment problems together",
			file:    "[http]\nlisten = 5\n",
			environ: []string{"COUNTERDESK_HTTP_LISTN=:80"},
			want: []Problem{
				{Key: "COUNTERDESK_HTTP_LISTN", Message: "unknown environment variable", Source: SourceEnv},
				{Line: 2, Key: "http.listen", Message: "must be a string in quotes, not an integer"},
			},
		},
		{
			name: "staff mail rules",
			file: "[notify]\nstaff_emails = [\"Owner <owner@shop.example>\"]\ndigest_at = \"8am\"\nstaff_url = \"counterdesk.local\"\n\n" +
				"[[notify.redirect]]\nname = \"workshop\"\nmatch = [\"category:warrenty\", \"tag:\", \"priority:high\"]\nto = []\n",
			want: []Problem{
				{Line: 2, Key: "notify.staff_emails", Message: `"Owner <owner@shop.example>" is not an email address such as "owner@shop.example"`},
				{Line: 2, Key: "notify.staff_emails", Message: "staff mails (staff_emails, [[notify.redirect]]) go out through [mail] smtp_server, which is not set"},
				{Line: 3, Key: "notify.digest_at", Message: `must be a time of day such as "08:00", not "8am"`},
				{Line: 4, Key: "notify.staff_url", Message: `must be "" or the address of the staff pages such as "http://counterdesk.local:8080", not "counterdesk.local"`},
				{Line: 8, Key: `notify.redirect "workshop"`, at: "notify.redirect[1].match",
					Message: `match: unknown category "warrenty"; use "order_status", "shipping", "returns_refunds", "warranty", "troubleshooting", "parts_availability", "general"`},
				{Line: 8, Key: `notify.redirect "workshop"`, at: "notify.redirect[1].match", Message: `match: "tag:" needs one tag after "tag:"`},
				{Line: 8, Key: `notify.redirect "workshop"`, at: "notify.redirect[1].match", Message: `match: "priority:high" must be "*", "tag:NAME" or "category:NAME"`},
				{Line: 9, Key: `notify.redirect "workshop"`, at: "notify.redirect[1].to", Message: "to: must list at least one address"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, tt.file)
			}
			_, err := Load(path, tt.environ)
			var ps *Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Load error = %v (%T), want *Problems", err, err)
			}
			if ps.File != path {
				t.Errorf("File = %q, want %q", ps.File, path)
			}
			if !reflect.DeepEqual(ps.List, tt.want) {
				t.Errorf("problems:\n%#v\nwant\n%#v", ps.List, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.toml"), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file = %v, want fs.ErrNotExist", err)
	}
}

// TestEnvironmentSetsEveryKey sets every key from the environment to the text
// of its default, which proves that every field type can be read from a
// variable.
func TestEnvironmentSetsEveryKey(t *testing.T) {
	def := reflect.ValueOf(Default())
	var environ []string
	for _, s := range settings() {
		environ = append(environ, s.env()+"="+formatValue(t, def.FieldByIndex(s.index)))
	}
	got, err := Load("", environ)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("Load = %+v\nwant %+v", got, want)
	}
}

func formatValue(t *testing.T, v reflect.Value) string {
	if m, ok := v.Interface().(encoding.TextMarshaler); ok {
		b, err := m.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if v.Kind() == reflect.Slice {
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = formatValue(t, v.Index(i))
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v.Interface())
}

func TestSetText(t *testing.T) {
	type fields struct {
		S  string
		B  bool
		I  int
		I8 int8
		U  uint16
		F  float64
		D  Duration
		L  []string
		C  complex64
	}
	tests := []struct {
		field, text string
		want        any
		wantErr     string
	}{
		{field: "S", text: " a b ", want: " a b "},
		{field: "B", text: "true", want: true},
		{field: "B", text: "yes", wantErr: `invalid boolean "yes"`},
		{field: "I", text: "-12", want: -12},
		{field: "I", text: "0x10", wantErr: `invalid number "0x10"`},
		{field: "I8", text: "128", wantErr: "out of range"},
		{field: "U", text: "65535", want: uint16(65535)},
		{field: "U", text: "-1", wantErr: "invalid number"},
		{field: "F", text: "1.5", want: 1.5},
		{field: "D", text: "1h30m", want: Duration{90 * time.Minute}},
		{field: "L", text: "a, b,,c ", want: []string{"a", "b", "c"}},
		{field: "L", text: "", want: []string{}},
		{field: "C", text: "1", wantErr: "cannot set a complex64"},
	}
	for _, tt := range tests {
		t.Run(tt.field+"="+tt.text, func(t *testing.T) {
			var f fields
			v := reflect.ValueOf(&f).Elem().FieldByName(tt.field)
			err := setText(v, tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("setText = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("setText: %v", err)
			}
			if got := v.Interface(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestProblemsError(t *testing.T) {
	tests := []struct {
		name string
		p    Problems
		want string
	}{
		{
			name: "file",
			p: Problems{File: "/etc/counterdesk.toml", List: []Problem{
				{Line: 3, Key: "http.listen", Message: "must be host:port"},
				{Line: 7, Message: "syntax error: expected '='"},
				{Key: "outbox.backoff_max", Message: "must not be less than outbox.backoff_base"},
				{Key: "COUNTERDESK_FOO", Message: "unknown environment variable", Source: SourceEnv},
			}},
			want: "/etc/counterdesk.toml:3: http.listen: must be host:port\n" +
				"/etc/counterdesk.toml:7: syntax error: expected '='\n" +
				"/etc/counterdesk.toml: outbox.backoff_max: must not be less than outbox.backoff_base\n" +
				"env: COUNTERDESK_FOO: unknown environment variable",
		},
		{
			name: "no file",
			p:    Problems{List: []Problem{{Line: 2, Key: "log.level", Message: "bad"}}},
			want: "config:2: log.level: bad",
		},
		{
			name: "empty",
			want: "config: no problems",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Error(); got != tt.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestProblemsSortedByLine(t *testing.T) {
	_, err := Parse([]byte("[log]\nlevel = \"loud\"\n[shop]\ntime_zone = \"Mars/Olympus\"\n[http]\nlisten = \"x\"\n"))
	want := "config:2: log.level: must be one of \"debug\", \"info\", \"warn\", \"error\", not \"loud\"\n" +
		"config:4: shop.time_zone: unknown time zone \"Mars/Olympus\"; use \"UTC\" or a zone such as \"Europe/London\"\n" +
		"config:6: http.listen: must be host:port, such as \":8080\" or \"127.0.0.1:8080\", not \"x\""
	if err == nil || err.Error() != want {
		t.Errorf("error =\n%v\nwant\n%s", err, want)
	}
}

func TestDurationText(t *testing.T) {
	tests := []struct {
		text    string
		want    time.Duration
		format  string
		wantErr bool
	}{
		{text: "72h", want: 72 * time.Hour, format: "72h"},
		{text: "90s", want: 90 * time.Second, format: "1m30s"},
		{text: "1h30m", want: 90 * time.Minute, format: "1h30m"},
		{text: "2m", want: 2 * time.Minute, format: "2m"},
		{text: "1h0m1s", want: time.Hour + time.Second, format: "1h0m1s"},
		{text: "2ms", want: 2 * time.Millisecond, format: "2ms"},
		{text: "-10m", want: -10 * time.Minute, format: "-10m"},
		{text: "0", want: 0, format: "0s"},
		{text: "", wantErr: true},
		{text: "72", wantErr: true},
		{text: "3 days", wantErr: true},
	}
	for _, tt := range tests {
		var d Duration
		err := d.UnmarshalText([]byte(tt.text))
		if tt.wantErr {
			if err == nil {
				t.Errorf("UnmarshalText(%q) = %v, want an error", tt.text, d)
			}
			continue
		}
		if err != nil || d.Duration != tt.want {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", tt.text, d.Duration, err, tt.want)
			continue
		}
		b, err := d.MarshalText()
		if err != nil || string(b) != tt.format {
			t.Errorf("MarshalText of %q = %q, %v; want %q", tt.text, b, err, tt.format)
		}
	}
}

func TestLocation(t *testing.T) {
	tests := []struct {
		zone, want string
	}{
		{"UTC", "UTC"},
		{"Europe/London", "Europe/London"},
		{"Nowhere/Special", "UTC"},
	}
	for _, tt := range tests {
		c := Default()
		c.Shop.TimeZone = tt.zone
		if got := c.Location().String(); got != tt.want {
			t.Errorf("Location() for %q = %s, want %s", tt.zone, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Example())
	for _, seed := range []string{
		"",
		"[http]\nlisten = 5\n",
		"[shop]\nname = \"x\n",
		"[[shop]]\n",
		"http = { listen = \":80\", listen = \":81\" }\n",
		"[log]\nlevel = \"info\"\n[log]\n",
		"a.b.c = [1, [2, {x = 3}]]\n",
		"[store]\nmax_message_bytes = 0x7fffffffffffffff\nthread_window = \"-1h\"\n",
		"\"http\".'listen' = \"[::1]:80\"\r\n",
		rulesFile,
		"[[automations]]\nname = \"a\"\nwhen = \"assigned\"\n[[automations.then]]\naction = \"assign\"\nvalue = \"b\"\n",
		"[hours]\nopen = [{days = [\"sat\"], from = \"10:00\", to = \"16:00\"}]\n",
		"[automations.if]\n[[automations]]\n[[triage.categories]]\npatterns = ['(']\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			var ps *Problems
			if !errors.As(err, &ps) || len(ps.List) == 0 {
				t.Fatalf("Parse error %v (%T) is not a non-empty *Problems", err, err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse succeeded but Validate() = %v", err)
		}
	})
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "counterdesk.toml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
