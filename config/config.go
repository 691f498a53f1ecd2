package config

import (
	_ "embed"
	"time"
)

// Config is the whole configuration of one counterdesk appliance. Each field
// is one table of the file.
type Config struct {
	Shop    Shop    `toml:"shop"`
	Store   Store   `toml:"store"`
	Outbox  Outbox  `toml:"outbox"`
	HTTP    HTTP    `toml:"http"`
	Log     Log     `toml:"log"`
	Hours   Hours   `toml:"hours"`
	Triage  Triage  `toml:"triage"`
	SLA     SLA     `toml:"sla"`
	Modem   Modem   `toml:"modem"`
	SIP     SIP     `toml:"sip"`
	Counter Counter `toml:"counter"`
	Backup  Backup  `toml:"backup"`
	Sync    Sync    `toml:"sync"`
	Notify  Notify  `toml:"notify"`
	Mail    Mail    `toml:"mail"`
	// Automations are rules that act on tickets when something happens to
	// them or a time passes.
	Automations []Automation `toml:"automations"`
}

// Modem configures the GSM USB modem that reads and sends the shop's SMS.
type Modem struct {
	// Device is the modem's serial port: "auto" for the first known modem
	// under /dev/serial/by-id, "off" for none, or a path.
	Device string `toml:"device"`
	// Baud is the line speed; USB modems ignore it, UART boards need it.
	Baud int `toml:"baud"`
	// PIN is the SIM's PIN, or "" for a SIM without one.
	PIN string `toml:"pin"`
	// Storage is where the modem keeps messages: "SM" (SIM), "ME" (modem)
	// or "MT" (both).
	Storage string `toml:"storage"`
	// OwnNumber is the shop's mobile number, so that messages from it are
	// never answered.
	OwnNumber string `toml:"own_number"`
	// RejectCallsAfterRings hangs up a call to the modem's number after so
	// many rings; 0 lets it ring.
	RejectCallsAfterRings int `toml:"reject_calls_after_rings"`
	// SendRatePerMinute bounds the SMS the modem sends in a minute.
	SendRatePerMinute int `toml:"send_rate_per_minute"`
	// PartsMaxAge is how long a long message waits for its missing parts
	// before it becomes a ticket with what arrived.
	PartsMaxAge Duration `toml:"parts_max_age"`
	// NationalLanguage lets replies use a national language shift table
	// of 3GPP TS 23.038 ("turkish", "spanish" or "portuguese"; "" for
	// none), so that text in that language goes as 7-bit GSM in fewer
	// parts than UCS-2.
	NationalLanguage string `toml:"national_language"`
}

// SIP configures the shop's phone line: the box answers calls nobody picks
// up, records voicemail and opens missed-call tickets.
type SIP struct {
	// Mode is "off", "listen" (calls are sent straight to the box: a trunk,
	// or a desk phone's forward-on-no-answer) or "register" (the box
	// registers as an extension with a SIP provider or PBX).
	Mode string `toml:"mode"`
	// Listen is the host:port for SIP over UDP and TCP.
	Listen string `toml:"listen"`
	// UDP and TCP choose the transports to listen on.
	UDP bool `toml:"udp"`
	TCP bool `toml:"tcp"`
	// PublicAddress is the host or IP address the box puts in its Contact
	// header and SDP, for a box behind NAT; "" uses the listen address or
	// the address the call arrived on.
	PublicAddress string `toml:"public_address"`
	// RTPPortMin and RTPPortMax bound the UDP ports used for call audio.
	RTPPortMin int `toml:"rtp_port_min"`
	RTPPortMax int `toml:"rtp_port_max"`
	// RingSeconds is how long a call rings before the box answers it;
	// RingSecondsAfterHours applies while the shop is closed.
	RingSeconds           int `toml:"ring_seconds"`
	RingSecondsAfterHours int `toml:"ring_seconds_after_hours"`
	// MaxMessageSeconds ends a voicemail recording; MinMessageSeconds is
	// the shortest recording kept as a voicemail (shorter is a missed
	// call); SilenceSeconds of silence end the recording.
	MaxMessageSeconds int `toml:"max_message_seconds"`
	MinMessageSeconds int `toml:"min_message_seconds"`
	SilenceSeconds    int `toml:"silence_seconds"`
	// Greeting and GreetingAfterHours are WAV files played before the
	// beep; "" plays the greeting built into the appliance.
	Greeting           string `toml:"greeting"`
	GreetingAfterHours string `toml:"greeting_after_hours"`
	// MaxCalls bounds the calls handled at once; more get 486 Busy Here.
	MaxCalls int `toml:"max_calls"`
	// Registrar is the SIP URI of the provider or PBX to register with,
	// such as "sip:pbx.local:5060"; used when Mode is "register".
	Registrar string `toml:"registrar"`
	// Username, AuthUsername and Password are the extension's credentials.
	// AuthUsername defaults to Username.
	Username     string `toml:"username"`
	AuthUsername string `toml:"auth_username"`
	Password     string `toml:"password"`
	// Domain is the domain of the extension's address of record; "" uses
	// the registrar's host.
	Domain string `toml:"domain"`
	// RegisterExpires is the registration lifetime asked for; the box
	// refreshes it before it runs out.
	RegisterExpires Duration `toml:"register_expires"`
	// TranscribeCommand, when set, is run after each voicemail with the
	// WAV file's path as its last argument; its output is stored as the
	// transcript and read by triage.
	TranscribeCommand string   `toml:"transcribe_command"`
	TranscribeTimeout Duration `toml:"transcribe_timeout"`
}

// Backup configures the nightly backup.
type Backup struct {
	// Dir is the folder that receives a backup each night, such as a USB
	// stick's mount point; "" turns the nightly backup off.
	Dir string `toml:"dir"`
	// At is the time of day, "HH:MM" in the shop's time zone.
	At string `toml:"at"`
	// Keep is the number of nightly backups kept; older ones are removed.
	Keep int `toml:"keep"`
}

// Counter configures the public counter form and the staff login limits.
type Counter struct {
	// MaxPhotoBytes bounds the photo a customer attaches.
	MaxPhotoBytes int64 `toml:"max_photo_bytes"`
	// MinFill is the least time between showing the form and taking it
	// back; a faster answer is a bot's.
	MinFill Duration `toml:"min_fill"`
	// RatePerHour bounds the requests from one client address in an hour.
	RatePerHour int `toml:"rate_per_hour"`
	// LoginMaxFailures failed logins of one staff name lock it for
	// LoginLockout.
	LoginMaxFailures int      `toml:"login_max_failures"`
	LoginLockout     Duration `toml:"login_lockout"`
}

// Shop describes the shop the appliance serves.
type Shop struct {
	// Name is shown to customers in acknowledgements and on the counter form.
	Name string `toml:"name"`
	// TimeZone is an IANA time zone name such as "Europe/London".
	TimeZone string `toml:"time_zone"`
	// DefaultRegion is the ISO 3166-1 alpha-2 code used to normalise phone
	// numbers written without an international prefix.
	DefaultRegion string `toml:"default_region"`
}

// Store configures the ticket database and its limits.
type Store struct {
	// DataDir is the directory that holds the database and attachments.
	DataDir string `toml:"data_dir"`
	// ThreadWindow is how long a contact's open ticket keeps collecting new
	// inbound messages: a message joins the ticket if the ticket was updated
	// within this window, otherwise it opens a new ticket.
	ThreadWindow Duration `toml:"thread_window"`
	// MaxMessageBytes limits the text of one message.
	MaxMessageBytes int `toml:"max_message_bytes"`
	// MaxAttachmentBytes limits the size of one attachment.
	MaxAttachmentBytes int64 `toml:"max_attachment_bytes"`
	// MaxAttachments limits the number of attachments of one message.
	MaxAttachments int `toml:"max_attachments"`
	// MinFreeBytes is the disk space kept free for the database: new
	// recordings and attachments are refused below it, with an alarm on
	// the system page, while text requests are still stored.
	MinFreeBytes int64 `toml:"min_free_bytes"`
	// FeedBuffer is the number of events buffered for each live-feed
	// subscriber before it is dropped as too slow.
	FeedBuffer int `toml:"feed_buffer"`
	// BatchDelay is how long a write waits for others to share its commit.
	BatchDelay Duration `toml:"batch_delay"`
	// Clock is "auto": until the system clock is synchronised, requests
	// are flagged and their times corrected later, and time rules wait;
	// or "trust": the clock is always right (a real-time clock).
	Clock string `toml:"clock"`
}

// Outbox configures the delivery of effects that leave the box.
type Outbox struct {
	// MaxAttempts is the number of delivery attempts before a row is parked
	// as dead.
	MaxAttempts int `toml:"max_attempts"`
	// Lease is how long a worker owns a row it is delivering.
	Lease Duration `toml:"lease"`
	// BackoffBase is the wait after the first failed attempt; each further
	// failure doubles it.
	BackoffBase Duration `toml:"backoff_base"`
	// BackoffMax caps the wait between attempts.
	BackoffMax Duration `toml:"backoff_max"`
	// MaxPending limits the rows waiting for delivery.
	MaxPending int `toml:"max_pending"`
}

// HTTP configures the staff web interface and the counter form.
type HTTP struct {
	// Listen is the host:port address to listen on; an empty host means
	// every interface.
	Listen string `toml:"listen"`
	// MaxBodyBytes limits the size of one request body.
	MaxBodyBytes int `toml:"max_body_bytes"`
	// ReadTimeout limits the time to read one request.
	ReadTimeout Duration `toml:"read_timeout"`
	// WriteTimeout limits the time to write one response.
	WriteTimeout Duration `toml:"write_timeout"`
	// TLS is "off" (plain HTTP), "self-signed" (a certificate the box
	// makes on first start and keeps in its data folder) or "files" (the
	// certificate and key in CertFile and KeyFile).
	TLS      string `toml:"tls"`
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
}

// Log configures the process log.
type Log struct {
	// Level is "debug", "info", "warn" or "error".
	Level string `toml:"level"`
	// Format is "text" or "json".
	Format string `toml:"format"`
}

// Default returns the configuration used for every key the file and the
// environment leave unset.
func Default() Config {
	return Config{
		Shop: Shop{
			Name:          "Counterdesk Model Shop",
			TimeZone:      "UTC",
			DefaultRegion: "GB",
		},
		Store: Store{
			DataDir:            "./data",
			ThreadWindow:       Duration{72 * time.Hour},
			MaxMessageBytes:    64 << 10,
			MaxAttachmentBytes: 25 << 20,
			MaxAttachments:     20,
			MinFreeBytes:       256 << 20,
			FeedBuffer:         256,
			BatchDelay:         Duration{2 * time.Millisecond},
			Clock:              "auto",
		},
		Outbox: Outbox{
			MaxAttempts: 12,
			Lease:       Duration{2 * time.Minute},
			BackoffBase: Duration{10 * time.Second},
			BackoffMax:  Duration{time.Hour},
			MaxPending:  100000,
		},
		HTTP: HTTP{
			Listen:       ":8080",
			MaxBodyBytes: 1 << 20,
			ReadTimeout:  Duration{30 * time.Second},
			WriteTimeout: Duration{60 * time.Second},
			TLS:          "off",
		},
		Modem: Modem{
			Device:            "auto",
			Baud:              115200,
			Storage:           "SM",
			SendRatePerMinute: 6,
			PartsMaxAge:       Duration{24 * time.Hour},
		},
		Backup: Backup{At: "03:00", Keep: 7},
		Sync:   defaultSync(),
		Notify: defaultNotify(),
		Mail:   defaultMail(),
		Counter: Counter{
			MaxPhotoBytes:    8 << 20,
			MinFill:          Duration{3 * time.Second},
			RatePerHour:      30,
			LoginMaxFailures: 5,
			LoginLockout:     Duration{15 * time.Minute},
		},
		SIP: SIP{
			Mode:                  "listen",
			Listen:                ":5060",
			UDP:                   true,
			TCP:                   true,
			RTPPortMin:            16384,
			RTPPortMax:            16483,
			RingSeconds:           20,
			RingSecondsAfterHours: 5,
			MaxMessageSeconds:     180,
			MinMessageSeconds:     2,
			SilenceSeconds:        10,
			MaxCalls:              8,
			RegisterExpires:       Duration{time.Hour},
			TranscribeTimeout:     Duration{2 * time.Minute},
		},
		Log: Log{
			Level:  "info",
			Format: "text",
		},
		Hours:       defaultHours(),
		Triage:      defaultTriage(),
		SLA:         defaultSLA(),
		Automations: defaultAutomations(),
	}
}

//go:embed counterdesk.example.toml
var example string

// Example returns the documented example configuration file. It sets every
// key to its default and explains each one; a test keeps it in step with
// [Default].
func Example() []byte {
	return []byte(example)
}

// Location returns the shop's time zone. It returns UTC if the zone does not
// load, which cannot happen for a configuration that passed [Config.Validate].
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Shop.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}
