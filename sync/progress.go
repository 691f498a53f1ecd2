package sync

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The engine's own buckets in the store's database. They hold how far each
// copy has got; the ticket buckets are the Desk's alone.
var (
	bProgress = []byte("sync_progress") // target \x00 number -> progress
	bRemote   = []byte("sync_remote")   // target \x00 remote ticket id -> number
	bCursor   = []byte("sync_cursor")   // target -> Changes cursor
)

// progress is how far the copy of one ticket in one target has got. It is
// written before each remote request that may have an effect (so that
// after a crash the engine knows to look before doing it again) and after
// each one that succeeded.
type progress struct {
	// Remote is the remote ticket's id, once it exists.
	Remote string `json:"remote,omitempty"`
	// Creating is set while a Create may have reached the target without
	// the box learning the remote id.
	Creating bool `json:"creating,omitempty"`
	// Last is the highest message id copied (or skipped because it came
	// from this target).
	Last uint64 `json:"last,omitempty"`
	// Posting is the message whose Post may have reached the target
	// without the box learning it.
	Posting uint64 `json:"posting,omitempty"`
	// The fields the remote last saw, copied by the box or changed there.
	Status   string   `json:"status,omitempty"`
	Priority string   `json:"priority,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	// Made holds the remote ids of the messages the box posted, so that
	// they are never taken for replies written in the helpdesk, and Seen
	// those of the replies applied on the box. Both keep the latest
	// maxRemembered.
	Made []string `json:"made,omitempty"`
	Seen []string `json:"seen,omitempty"`
}

// maxRemembered bounds progress.Made and progress.Seen.
const maxRemembered = 256

func remember(list []string, id string) []string {
	list = append(list, id)
	if len(list) > maxRemembered {
		list = list[len(list)-maxRemembered:]
	}
	return list
}

func progressKey(target string, n uint64) []byte {
	k := make([]byte, 0, len(target)+9)
	k = append(k, target...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, n)
}

func remoteKey(target, id string) []byte { return []byte(target + "\x00" + id) }

// store reads and writes the engine's buckets.
type store struct{ db *bolt.DB }

func newStore(db *bolt.DB) (store, error) {
	err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bProgress, bRemote, bCursor} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store{}, fmt.Errorf("sync: open buckets: %w", err)
	}
	return store{db: db}, nil
}

func (s store) progress(target string, n uint64) (progress, error) {
	var p progress
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bProgress).Get(progressKey(target, n))
		if v == nil {
			return nil
		}
		return json.Unmarshal(v, &p)
	})
	return p, err
}

// save writes p and, when it has a remote id, the index from it back to n.
func (s store) save(target string, n uint64, p *progress) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if p.Remote != "" {
			if err := tx.Bucket(bRemote).Put(remoteKey(target, p.Remote), binary.BigEndian.AppendUint64(nil, n)); err != nil {
				return err
			}
		}
		return tx.Bucket(bProgress).Put(progressKey(target, n), data)
	})
}

// byRemote returns the box ticket whose copy in target is remote id, or 0.
func (s store) byRemote(target, id string) (uint64, error) {
	var n uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bRemote).Get(remoteKey(target, id)); len(v) == 8 {
			n = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return n, err
}

func (s store) cursor(target string) (string, error) {
	var c string
	err := s.db.View(func(tx *bolt.Tx) error {
		c = string(tx.Bucket(bCursor).Get([]byte(target)))
		return nil
	})
	return c, err
}

func (s store) setCursor(target, c string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bCursor).Put([]byte(target), []byte(c))
	})
}
