package triage

import (
	"regexp"
	"slices"
	"testing"
)

func TestRequired(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string // nil: no prefilter
	}{
		{`order`, []string{"ORDER"}},
		{`\border\s*#?(\d{4,10})\b`, []string{"ORDER"}},
		{`(?i)\b(?:order|pedido|sipari[sş]\pL*)\s*(\d+)`, []string{"ORDER", "PEDIDO", "SIPARI"}},
		{`\bSKU[\s:#-]*([0-9A-Z-]{3,})\b|\b([A-Z]{2,5}-[0-9]{1,6})\b`, []string{"SKU", "-"}},
		{`(?i)\b([a-z]{2}\d{9}[a-z]{2}|1z[0-9a-z]{16})\b`, nil}, // the first alternative needs no literal
		{`\b\d+s lipo\b`, []string{"S LIPO"}},
		{`(?:lipo)+`, []string{"LIPO"}},
		{`(?:lipo){2,}`, []string{"LIPO"}},
		{`(?:lipo)?x`, []string{"X"}},
		{`(?:lipo)*`, nil},
		{`.*`, nil},
		{`şişmiş`, []string{canon("şişmiş")}},
		{`(?i)\x{212a}elvin`, []string{"KELVIN"}},
	}
	for _, tt := range tests {
		pf := newPrefilter(regexp.MustCompile(tt.pattern))
		if !slices.Equal(pf.literals, tt.want) {
			t.Errorf("%s: literals %q, want %q", tt.pattern, pf.literals, tt.want)
		}
	}
}

func TestCanon(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Order #12", "ORDER #12"},
		{"kK\u212a", "KKK"},
		{"ſs", "SS"},
		{"şİı", "Şİı"}, // İ and ı are equal to nothing else under (?i)
		{"\xff", "\uFFFD"},
	}
	for _, tt := range tests {
		if got := canon(tt.in); got != tt.want {
			t.Errorf("canon(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if canon("ş") != canon("Ş") || canon("ı") == canon("i") {
		t.Errorf("canon folds ş/Ş apart or ı/i together, unlike (?i)")
	}
}

// FuzzPrefilter checks that a prefilter never skips a text its pattern
// matches.
func FuzzPrefilter(f *testing.F) {
	for _, s := range []struct{ pattern, text string }{
		{`(?i)order\s*(\d+)`, "ORDER 1234"},
		{`(?i)sipari[sş]`, "SİPARİŞ"},
		{`(?i)\x{212a}`, "k"},
		{`(?i)s+`, "ſ"},
		{`a|b|(c)+`, "ccc"},
		{`x{2,3}y?`, "xx"},
	} {
		f.Add(s.pattern, s.text)
	}
	f.Fuzz(func(t *testing.T, pattern, text string) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		pf := newPrefilter(re)
		if re.MatchString(text) && !pf.mayMatch(canon(text)) {
			t.Errorf("%q matches %q but the prefilter (%q) skips it", pattern, text, pf.literals)
		}
	})
}
