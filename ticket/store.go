package ticket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	stdsync "sync"
	"time"

	"github.com/counterdesk/counterdesk/triage"
	bolt "go.etcd.io/bbolt"
)

// DBFile is the name of the database inside the data folder.
const DBFile = "counterdesk.db"

// AttachmentsDir is the folder of attachment files inside the data folder.
const AttachmentsDir = "attachments"

// FirstNumber is the number of the first ticket; later ones count up from it,
// so customers never see a ticket #1.
const FirstNumber = 1001

// Bucket names. Every bucket is created when the store opens.
var (
	bMeta    = []byte("meta")
	bTickets = []byte("tickets") // number -> Ticket
	// The thread holds messages and audit events under their ticket, so
	// that one ticket's records share pages: number, record kind, id.
	bThread      = []byte("thread")
	bLookup      = []byte("lookup")      // lookup kind, value -> number or contact id
	bContacts    = []byte("contacts")    // id -> Contact
	bAttachments = []byte("attachments") // sha256 hex -> Attachment
	// The index holds every list and search index, each under a one-byte
	// prefix (see index.go). One bucket for all of them means one tree:
	// an ingest rewrites fewer branch pages than with a bucket each.
	bIndex = []byte("index")
	// Recent word postings, not yet merged into the index (see words.go).
	bRecent = []byte("recent")

	bOutbox     = []byte("outbox")      // id -> OutboxRow
	bOutboxDue  = []byte("outbox_due")  // kind 0 due id
	bOutboxIdem = []byte("outbox_idem") // idempotency key -> id
	bOutboxDead = []byte("outbox_dead") // id

	allBuckets = [][]byte{
		bMeta, bTickets, bThread, bLookup, bContacts, bAttachments, bIndex, bRecent,
		bOutbox, bOutboxDue, bOutboxIdem, bOutboxDead,
	}

	keyOutboxCount = []byte("outbox_count")
	// keySchema holds the version of the store's layout (SchemaVersion),
	// written when the store is made and raised by each migration.
	keySchema = []byte("schema_version")
)

// Kinds of thread record.
const (
	recMessage = 'm'
	recEvent   = 'e'
)

// threadKey is the key of a message or event of ticket n.
func threadKey(n uint64, kind byte, id uint64) []byte {
	return key(u64(n), []byte{kind}, u64(id))
}

// Kinds of lookup.
const (
	lkUUID   = 'u' // ticket uuid -> number
	lkSource = 's' // channel:source key -> number, message id
	lkPhone  = 'p' // E.164 -> contact id
	lkEmail  = 'e' // email -> contact id
	lkRemote = 'r' // sync target \x00 remote message id -> number, message id
)

func lookupKey(kind byte, s string) []byte { return append([]byte{kind}, s...) }

// Triager decides priority, category, routing and tags of a request. The
// triage package provides it; triage.Default sets normal priority.
type Triager interface {
	Triage(in triage.Input) triage.Decision
}

// Options configure a Desk. Zero values take the defaults.
type Options struct {
	// Region is the ISO 3166-1 alpha-2 region used to read phone numbers
	// written without a country code.
	Region string
	// ThreadWindow is how recently a contact's ticket must have changed
	// for a new request of theirs to join it instead of opening a new one.
	ThreadWindow time.Duration
	Limits       Limits
	// FeedBuffer is the number of changes a live-feed subscriber may fall
	// behind before it is dropped.
	FeedBuffer int
	// BatchDelay is how long Ingest waits for other ingests to share one
	// fsync.
	BatchDelay time.Duration
	Outbox     OutboxOptions
	// Clock says whether the wall clock is synchronised; nil trusts it
	// always. See [Clock].
	Clock Clock
	// Notifier tells customers that their request arrived, was resolved,
	// or waits on them; nil tells them nothing by itself.
	Notifier Notifier
	// StaffNotices queues a KindNotifyStaff outbox row for each staff
	// notification (a safety flag, a rule's notify action). Set it when
	// a consumer mails them to staff; without one the rows would only
	// pile up.
	StaffNotices bool
	Triager      Triager
	// Automator runs the event and time rules; nil runs none.
	Automator Automator
	// Planners turn committed changes into outbox rows (sync targets,
	// notifications). Each runs inside the transaction of the change.
	Planners []Planner
	Logger   *slog.Logger
	// Now returns the current time; tests set it.
	Now func() time.Time
	// OpenTimeout bounds the wait for another process's lock on the
	// database.
	OpenTimeout time.Duration
}

// Defaults for Options.
const (
	DefaultThreadWindow = 72 * time.Hour
	DefaultFeedBuffer   = 256
	DefaultBatchDelay   = 2 * time.Millisecond
	DefaultOpenTimeout  = time.Second
)

func (o Options) withDefaults() Options {
	if o.Region == "" {
		o.Region = "GB"
	}
	if o.ThreadWindow <= 0 {
		o.ThreadWindow = DefaultThreadWindow
	}
	o.Limits = o.Limits.withDefaults()
	if o.FeedBuffer <= 0 {
		o.FeedBuffer = DefaultFeedBuffer
	}
	if o.BatchDelay <= 0 {
		o.BatchDelay = DefaultBatchDelay
	}
	o.Outbox = o.Outbox.withDefaults()
	if o.Triager == nil {
		o.Triager = triage.Default{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OpenTimeout <= 0 {
		o.OpenTimeout = DefaultOpenTimeout
	}
	return o
}

// Desk is the one writer of tickets. Every change to a ticket goes through
// one of its methods and lands in one bbolt transaction together with its
// audit event and the outbox rows it causes.
type Desk struct {
	db     *bolt.DB
	dir    string
	opts   Options
	log    *slog.Logger
	feed   *feed
	wakeMu stdsync.Mutex
	wake   chan struct{} // closed after a commit that added outbox rows

	words wordIndex
	meter ingestMeter
}

// Open opens (or creates) the store in the data folder dir.
func Open(dir string, opts Options) (*Desk, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(filepath.Join(dir, AttachmentsDir), 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	path := filepath.Join(dir, DBFile)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.OpenTimeout})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open %s: another process holds the database (is the appliance running?): %w", path, err)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.MaxBatchDelay = opts.BatchDelay
	err = db.Update(func(tx *bolt.Tx) error {
		if err := checkSchema(tx); err != nil {
			return err
		}
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return tx.Bucket(bMeta).Put(keySchema, u64(SchemaVersion))
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	d := &Desk{
		db:   db,
		dir:  dir,
		opts: opts,
		log:  opts.Logger,
		feed: newFeed(opts.FeedBuffer),
		wake: make(chan struct{}),
	}
	if err := d.releaseLeases(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := d.startWordIndex(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return d, nil
}

// SchemaVersion is the version of the store's layout this build reads and
// writes. A change of layout raises it and adds a migration to checkSchema;
// a migration runs in the same transaction as the version's update, so a
// failed one leaves the store as it was.
const SchemaVersion = 1

// ErrNewerSchema is returned by Open for a store written by a newer build.
var ErrNewerSchema = errors.New("the store was written by a newer version of counterdesk")

// checkSchema refuses a store from a newer build and migrates an older
// one. Stores made before the version was kept are version 1.
func checkSchema(tx *bolt.Tx) error {
	meta := tx.Bucket(bMeta)
	if meta == nil {
		return nil // a new store
	}
	v := uint64(1)
	if b := meta.Get(keySchema); len(b) == 8 {
		v = beU64(b)
	}
	if v > SchemaVersion {
		return fmt.Errorf("%w (layout %d; this one reads up to %d): install that version again, or restore a backup made by this one", ErrNewerSchema, v, SchemaVersion)
	}
	// Migrations from v to SchemaVersion go here, one step per version.
	return nil
}

// Close stops the background work, closes the database and ends every
// feed subscription.
func (d *Desk) Close() error {
	d.stopWordIndex()
	d.feed.close()
	return d.db.Close()
}

// DB returns the database for packages that keep buckets of their own (staff
// accounts, API tokens). The ticket buckets are written only by the Desk.
func (d *Desk) DB() *bolt.DB { return d.db }

// Dir returns the data folder.
func (d *Desk) Dir() string { return d.dir }

// Limits returns the configured limits.
func (d *Desk) Limits() Limits { return d.opts.Limits }

// u64 encodes v as 8 big-endian bytes, so keys sort in number order.
func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func key(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

// strPrefix is the index prefix for a string value: the value and a zero
// byte, so that "ab" never matches the prefix of "abc".
func strPrefix(s string) []byte { return append([]byte(s), 0) }

func timeKey(t time.Time) []byte { return u64(uint64(t.UnixNano())) }
