package triage

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold returns s as rules and the search index compare it: lower case,
// accents removed ("Ação" -> "acao"), the Turkish dotted and dotless i both
// read as "i", and "ß" as "ss". The ticket package's search index folds
// with it too, so a keyword matches a request as a search for it would.
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // combining mark: the accent of the letter before
		case r == 'İ' || r == 'ı' || r == 'I':
			b.WriteRune('i')
		case r == 'ß':
			b.WriteString("ss")
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// isWordRune reports whether r belongs to a word: a letter or a digit.
func isWordRune(r rune) bool {
	if r < 0x80 {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// eachWord calls f with the start and end of each word of s, in order: each
// run of letters and digits. Punctuation, spaces and symbols separate
// words, so "won't" is the two words "won" and "t".
func eachWord(s string, f func(start, end int)) {
	start := -1
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			f(start, i)
			start = -1
		}
	}
	if start >= 0 {
		f(start, len(s))
	}
}

// words returns the words of the folded form of s.
func words(s string) []string {
	f := Fold(s)
	var out []string
	eachWord(f, func(start, end int) { out = append(out, f[start:end]) })
	return out
}
