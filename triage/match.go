package triage

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/counterdesk/counterdesk/config"
)

// The parts of a request that rules read, in the order they are read.
const (
	partSubject = iota
	partBody
	partTranscript
	numParts
)

// partName names a part of a request for a sentence.
func partName(p uint8) string {
	switch p {
	case partSubject:
		return "the subject"
	case partBody:
		return "the body"
	}
	return "the transcript"
}

// termKind says how a term matches.
type termKind uint8

const (
	kindPhrase  termKind = iota // a run of words; scores 2
	kindKeyword                 // one word, or the words of a keyword such as "li-po"; scores 1
	kindPattern                 // a regular expression on the folded text; scores 1
)

// term is one keyword, phrase or pattern of a rule.
type term struct {
	rule  int32
	kind  termKind
	text  string  // as the rule writes it
	words []int32 // ids of the folded words, for keywords and phrases
	re    prefilter
}

// score returns what a match of the term adds to its rule's score.
func (t *term) score() int {
	if t.kind == kindPhrase {
		return 2
	}
	return 1
}

// matcher finds the terms of many rules in a text in one pass over its
// words: each word is looked up once, and only the terms that start with it
// are compared further.
type matcher struct {
	vocab    map[string]int32 // folded word to id
	starts   [][]int32        // by word id: the terms whose first word it is
	patterns []int32          // the terms that are patterns
	terms    []term
	rules    int // number of rules added
}

func newMatcher() *matcher {
	return &matcher{vocab: make(map[string]int32)}
}

// id returns the id of a folded word, giving it one if it has none.
func (m *matcher) id(w string) int32 {
	if id, ok := m.vocab[w]; ok {
		return id
	}
	id := int32(len(m.starts))
	m.vocab[w] = id
	m.starts = append(m.starts, nil)
	return id
}

// add adds a rule and returns its index. A keyword or phrase without a
// letter or digit can never match and is left out.
func (m *matcher) add(keywords, phrases, patterns []string) (int32, error) {
	rule := int32(m.rules)
	m.rules++
	addWords := func(kind termKind, text string) {
		ws := words(text)
		if len(ws) == 0 {
			return
		}
		t := term{rule: rule, kind: kind, text: text, words: make([]int32, len(ws))}
		for i, w := range ws {
			t.words[i] = m.id(w)
		}
		n := int32(len(m.terms))
		m.terms = append(m.terms, t)
		m.starts[t.words[0]] = append(m.starts[t.words[0]], n)
	}
	for _, k := range keywords {
		addWords(kindKeyword, k)
	}
	for _, p := range phrases {
		addWords(kindPhrase, p)
	}
	for i, p := range patterns {
		re, err := config.CompilePattern(p)
		if err != nil {
			return 0, fmt.Errorf("pattern %d: %w", i+1, err)
		}
		m.patterns = append(m.patterns, int32(len(m.terms)))
		m.terms = append(m.terms, term{rule: rule, kind: kindPattern, text: p, re: newPrefilter(re)})
	}
	return rule, nil
}

// hit is a match of one term.
type hit struct {
	term int32
	part uint8
	pos  int32  // index of the first word, or byte offset for a pattern
	text string // the text a pattern matched
}

// match returns the first match of each term in the folded parts of a
// request, in the order of the parts and, within a part, of the text.
func (m *matcher) match(parts *[numParts]string) []hit {
	var hits []hit
	seen := make([]uint64, (len(m.terms)+63)/64)
	first := func(t int32) bool {
		if seen[t/64]&(1<<(t%64)) != 0 {
			return false
		}
		seen[t/64] |= 1 << (t % 64)
		return true
	}
	var ids []int32
	for p, text := range parts {
		if text == "" {
			continue
		}
		ids = ids[:0]
		eachWord(text, func(start, end int) {
			id, ok := m.vocab[text[start:end]]
			if !ok {
				id = -1
			}
			ids = append(ids, id)
		})
		for i, id := range ids {
			if id < 0 {
				continue
			}
			for _, t := range m.starts[id] {
				ws := m.terms[t].words
				if i+len(ws) <= len(ids) && slices.Equal(ids[i:i+len(ws)], ws) && first(t) {
					hits = append(hits, hit{term: t, part: uint8(p), pos: int32(i)})
				}
			}
		}
		canonical := ""
		if len(m.patterns) > 0 {
			canonical = canon(text)
		}
		for _, t := range m.patterns {
			pf := &m.terms[t].re
			if !pf.mayMatch(canonical) {
				continue
			}
			if loc := pf.re.FindStringIndex(text); loc != nil && first(t) {
				hits = append(hits, hit{term: t, part: uint8(p), pos: int32(loc[0]), text: text[loc[0]:loc[1]]})
			}
		}
	}
	return hits
}

// ruleHits is the hits of one rule and its score.
type ruleHits struct {
	hits  []hit
	score int
}

// byRule groups hits by rule.
func (m *matcher) byRule(hits []hit) []ruleHits {
	out := make([]ruleHits, m.rules)
	for _, h := range hits {
		r := &out[m.terms[h.term].rule]
		r.hits = append(r.hits, h)
		r.score += m.terms[h.term].score()
	}
	return out
}

// maxWhyTerms bounds the terms a sentence names.
const maxWhyTerms = 3

// maxWhyText bounds the text of a pattern's match that a sentence quotes.
const maxWhyText = 40

// why describes the hits of one rule for staff, such as `matched "order
// status" in the subject and "order" in the body`. Phrases come first, then
// keywords, then patterns.
func (m *matcher) why(hits []hit) string {
	hs := slices.Clone(hits)
	slices.SortStableFunc(hs, func(a, b hit) int {
		return cmp.Compare(m.terms[a.term].kind, m.terms[b.term].kind)
	})
	shown := hs[:min(len(hs), maxWhyTerms)]
	var b strings.Builder
	b.WriteString("matched ")
	for i, h := range shown {
		t := &m.terms[h.term]
		text := t.text
		if t.kind == kindPattern {
			text = cut(h.text, maxWhyText)
		}
		switch {
		case i == 0:
		case i == len(shown)-1:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(text))
		if i == len(shown)-1 || shown[i+1].part != h.part {
			b.WriteString(" in " + partName(h.part))
		}
	}
	if more := len(hs) - len(shown); more > 0 {
		fmt.Fprintf(&b, " (and %d more)", more)
	}
	return b.String()
}

// cut shortens s to at most n bytes, on a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool {
	return b&0xC0 != 0x80
}
