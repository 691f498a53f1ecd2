package ticket

import (
	"strings"
	"unicode"

	"github.com/counterdesk/counterdesk/triage"
)

// Fold returns s in the form the search index keeps: lower case, accents
// removed ("Ação" -> "acao"), and the Turkish dotted and dotless i both
// folded to "i". It is the triage rules' folding, so that a keyword matches
// a request as a search for it would.
func Fold(s string) string { return triage.Fold(s) }

// maxTokenBytes bounds one token; longer runs of letters are cut.
const maxTokenBytes = 48

// maxTokensPerText bounds the distinct tokens indexed for one text.
const maxTokensPerText = 2000

// Tokens splits folded text into distinct search tokens: runs of letters
// and digits. Single letters are left out; single digits are kept, since
// people search for short numbers.
func Tokens(s string) []string {
	f := Fold(s)
	seen := make(map[string]struct{})
	var out []string
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		tok := f[start:end]
		start = -1
		if len(tok) > maxTokenBytes {
			tok = tok[:maxTokenBytes]
			for len(tok) > 0 && !utf8Start(tok) {
				tok = tok[:len(tok)-1]
			}
		}
		if len(tok) == 1 && !(tok[0] >= '0' && tok[0] <= '9') {
			return
		}
		if _, ok := seen[tok]; ok || len(out) >= maxTokensPerText {
			return
		}
		seen[tok] = struct{}{}
		out = append(out, tok)
	}
	for i, r := range f {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(f))
	return out
}

// utf8Start reports whether s ends on a whole rune.
func utf8Start(s string) bool {
	r := []rune(s)
	return len(r) > 0 && r[len(r)-1] != unicode.ReplacementChar
}

// stopWords are left out of the search index: words so common in requests
// that searching for them finds everything. English, Portuguese, Spanish
// and Turkish, folded as Fold folds them.
var stopWords = wordSet(`
	a an and are as at be but by for from has have i in is it its me my of on or our so
	that the their them there they this to was we were with you your
	o os as um uma de do da dos das em no na nos nas que e para com por se ao
	el la los las un una del al y es en lo
	ve bir bu da de ile icin mi mu cok`)

func wordSet(words string) map[string]bool {
	set := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		set[w] = true
	}
	return set
}
