package triage

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Go's regular expressions scan every position of a text when a pattern
// starts with anything but a literal, such as \b, which costs about as much
// as all the other matching of a request together. A prefilter skips a
// pattern cheaply when the text lacks every literal the pattern needs: a
// match of `\border\s*#?(\d+)` contains "order", and a match of
// `(?:order|pedido)\d+` contains "order" or "pedido".

// prefilter is a compiled regular expression with the literals one of which
// each of its matches contains, in canonical case (see [canon]). With no
// literals it always runs.
type prefilter struct {
	re       *regexp.Regexp
	literals []string
}

func newPrefilter(re *regexp.Regexp) prefilter {
	p := prefilter{re: re}
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return p
	}
	if lits, ok := required(tree.Simplify()); ok {
		p.literals = lits
	}
	return p
}

// mayMatch reports whether the regular expression can match a text whose
// canonical case is canonical.
func (p *prefilter) mayMatch(canonical string) bool {
	if len(p.literals) == 0 {
		return true
	}
	return slices.ContainsFunc(p.literals, func(l string) bool { return strings.Contains(canonical, l) })
}

// required returns literals, in canonical case, one of which each match of
// re contains, and false when it finds none.
func required(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{canon(string(re.Rune))}, len(re.Rune) > 0
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		// Any part will do; the one whose shortest literal is longest
		// filters best.
		var best []string
		for _, sub := range re.Sub {
			if lits, ok := required(sub); ok && (best == nil || shortest(lits) > shortest(best)) {
				best = lits
			}
		}
		return best, best != nil
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			lits, ok := required(sub)
			if !ok {
				return nil, false
			}
			all = append(all, lits...)
		}
		return all, true
	}
	return nil, false
}

// shortest returns the length of the shortest of lits.
func shortest(lits []string) int {
	n := -1
	for _, l := range lits {
		if n < 0 || len(l) < n {
			n = len(l)
		}
	}
	return n
}

// canon returns s with each rune replaced by the smallest rune that it is
// equal to when case is ignored, as (?i) ignores it: "Kk\u212a" becomes
// "KKK". A literal matches a text, with or without (?i), only where the
// canonical text holds the canonical literal.
func canon(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(s)
	}
	return strings.Map(func(r rune) rune {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		return m
	}, s)
}
