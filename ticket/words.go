package ticket

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
	stdsync "sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The word index is in two parts, both in the index bucket and both
// written in the transaction of the change that adds the words:
//
//   - recent postings (their own bucket, number then token), where the
//     words of one message sit side by side, so that adding them rewrites
//     one or two pages instead of one page per word;
//   - the main index (ixWords, token then inverted number), where each
//     word's tickets sit side by side, newest first, for fast search.
//
// A background merge moves every recent posting into the main index in one
// large transaction, where the postings of many tickets share pages, and
// then drops the recent bucket whole instead of deleting key by key.
// Search reads both parts, so a word is found the moment its transaction
// commits.

// Merge thresholds of the word index.
const (
	// mergeAfter is the number of recent postings that starts a merge.
	mergeAfter = 1024
	// mergeEvery is how soon recent postings are merged when fewer
	// arrive.
	mergeEvery = 2 * time.Second
)

type wordIndex struct {
	recent atomic.Int64 // recent postings not yet merged, roughly
	kick   chan struct{}
	stop   chan struct{}
	done   stdsync.WaitGroup
	once   stdsync.Once
}

// indexWords adds the tokens of texts to the recent postings of ticket n.
func (t *txn) indexWords(n uint64, texts ...string) error {
	b := t.tx.Bucket(bRecent)
	num := u64(n)
	for _, text := range texts {
		for _, tok := range Tokens(text) {
			if stopWords[tok] {
				continue
			}
			if err := b.Put(key(num, strPrefix(tok)), nil); err != nil {
				return err
			}
			t.postings++
		}
	}
	return nil
}

func (d *Desk) startWordIndex() error {
	if d.opts.Automator != nil {
		if err := d.rescheduleIfRulesChanged(); err != nil {
			return fmt.Errorf("time rules: %w", err)
		}
	}
	w := &d.words
	w.kick = make(chan struct{}, 1)
	w.stop = make(chan struct{})
	var n int64
	err := d.db.View(func(tx *bolt.Tx) error {
		n = int64(tx.Bucket(bRecent).Stats().KeyN)
		return nil
	})
	if err != nil {
		return err
	}
	w.recent.Store(n)
	w.done.Add(1)
	go d.mergeWords()
	if d.opts.Automator != nil {
		w.done.Add(1)
		go d.runScheduler()
	}
	return nil
}

func (d *Desk) stopWordIndex() {
	d.words.once.Do(func() {
		close(d.words.stop)
		d.words.done.Wait()
	})
}

// added counts postings a commit added and starts a merge when enough wait.
func (w *wordIndex) added(n int) {
	if n == 0 {
		return
	}
	if w.recent.Add(int64(n)) >= mergeAfter {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
}

// mergeWords moves recent postings into the main word index until the
// desk closes.
func (d *Desk) mergeWords() {
	w := &d.words
	defer w.done.Done()
	// Once per start, clear away attachment files of changes that never
	// committed.
	if n, err := d.sweepAttachments(); err != nil {
		d.log.Warn("attachment sweep", "err", err)
	} else if n > 0 {
		d.log.Info("removed attachment files no ticket refers to", "files", n)
	}
	tick := time.NewTicker(mergeEvery)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-w.kick:
		case <-tick.C:
			if w.recent.Load() == 0 {
				continue
			}
		}
		if _, err := d.mergeRecent(); err != nil {
			d.log.Error("word index merge failed", "err", err)
		}
	}
}

// mergeRecent moves every recent posting into the main index in one
// transaction and returns how many it moved.
func (d *Desk) mergeRecent() (int, error) {
	moved := 0
	err := d.db.Update(func(tx *bolt.Tx) error {
		var keys [][]byte
		c := tx.Bucket(bRecent).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			keys = append(keys, ix(ixWords, k[8:], u64(^beU64(k[:8]))))
		}
		// In key order the puts walk the tree once from left to right.
		slices.SortFunc(keys, bytes.Compare)
		b := tx.Bucket(bIndex)
		for _, k := range keys {
			if err := b.Put(k, nil); err != nil {
				return err
			}
		}
		if err := tx.DeleteBucket(bRecent); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bRecent)
		moved = len(keys)
		return err
	})
	if err != nil {
		return 0, err
	}
	if left := d.words.recent.Add(-int64(moved)); left < 0 {
		d.words.recent.Store(0)
	}
	return moved, nil
}

// search answers a full-text query: the tickets that hold every word, by
// descending number. In the main index each word's list is sorted by
// descending number and the cursors leap over each other with Seek, so
// the cost follows the shortest list, not the longest. Tickets with
// recent postings are checked word by word, in both parts.
func (d *Desk) search(tx *bolt.Tx, f Filter, cursor []byte, page *Page) error {
	var words []string
	for _, w := range Tokens(f.Query) {
		if !stopWords[w] {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return invalid("q", "holds no word to search for")
	}
	if len(words) > 8 {
		words = words[:8]
	}
	top := ^uint64(0)
	if cursor != nil {
		if len(cursor) != 8 {
			return invalid("cursor", "belongs to another listing")
		}
		top = beU64(cursor)
	}
	main := newPostings(tx.Bucket(bIndex), words)
	recent := recentMatches(tx, words, top)

	mainN, mainOK := main.next(top)
	examined := 0
	for {
		var n uint64
		switch {
		case len(recent) > 0 && (!mainOK || recent[0] >= mainN):
			n, recent = recent[0], recent[1:]
			if mainOK && mainN == n {
				mainN, mainOK = main.after(n)
			}
		case mainOK:
			n = mainN
			mainN, mainOK = main.after(n)
		default:
			return nil
		}
		if len(page.Tickets) == f.Limit || examined == maxExamined {
			page.Next = base64.RawURLEncoding.EncodeToString(u64(n))
			return nil
		}
		examined++
		tk, err := loadTicket(tx, n)
		if err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		if f.Match(tk) && tk.MergedInto == 0 {
			page.Tickets = append(page.Tickets, *tk)
		}
	}
}

// postings walks the intersection of words' lists in the main index.
type postings struct {
	cs       []*bolt.Cursor
	prefixes [][]byte
}

func newPostings(b *bolt.Bucket, words []string) *postings {
	p := &postings{}
	for _, w := range words {
		p.cs = append(p.cs, b.Cursor())
		p.prefixes = append(p.prefixes, ix(ixWords, strPrefix(w)))
	}
	return p
}

// next returns the highest ticket number at most max that every list holds.
func (p *postings) next(max uint64) (uint64, bool) {
	target := ^max // the lists hold inverted numbers
	agreed := 0
	for i := 0; agreed < len(p.cs); i = (i + 1) % len(p.cs) {
		k, _ := p.cs[i].Seek(key(p.prefixes[i], u64(target)))
		if k == nil || !hasPrefix(k, p.prefixes[i]) {
			return 0, false // one word has no more tickets
		}
		got := beU64(k[len(p.prefixes[i]):])
		if got == target {
			agreed++
			continue
		}
		target, agreed = got, 1
	}
	return ^target, true
}

// after returns the next match below n.
func (p *postings) after(n uint64) (uint64, bool) {
	if n == 0 {
		return 0, false
	}
	return p.next(n - 1)
}

// recentMatches returns, by descending number, the tickets of at most
// number top that have recent postings and hold every word in either part
// of the index.
func recentMatches(tx *bolt.Tx, words []string, top uint64) []uint64 {
	var out []uint64
	recent, main := tx.Bucket(bRecent), tx.Bucket(bIndex)
	c := recent.Cursor()
	for k, _ := c.First(); k != nil; {
		n := beU64(k[:8])
		if n <= top && holdsAll(recent, main, n, words) {
			out = append(out, n)
		}
		if n == ^uint64(0) {
			break
		}
		k, _ = c.Seek(u64(n + 1))
	}
	slices.Reverse(out)
	return out
}

func holdsAll(recent, main *bolt.Bucket, n uint64, words []string) bool {
	for _, w := range words {
		tok := strPrefix(w)
		if recent.Get(key(u64(n), tok)) == nil && main.Get(ix(ixWords, tok, u64(^n))) == nil {
			return false
		}
	}
	return true
}
