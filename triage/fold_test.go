package triage

import (
	"slices"
	"testing"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"WHERE IS MY ORDER??", "where is my order??"},
		{"Ação", "acao"},
		{"fumaça", "fumaca"},
		{"SİPARİŞ DURUMU", "siparis durumu"},
		{"ışık", "isik"},
		{"IŞIK", "isik"},
		{"Straße", "strasse"},
		{"BATERÍA HINCHADA", "bateria hinchada"},
		{"naïve café", "naive cafe"},
		{"ŞİKAYET", "sikayet"},
		{"e\u0301", "e"}, // already decomposed
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  ...  ", nil},
		{"My ESC won't arm!", []string{"my", "esc", "won", "t", "arm"}},
		{"li-po", []string{"li", "po"}},
		{"order #10452, RR123456785GB", []string{"order", "10452", "rr123456785gb"}},
		{"Pil şişti; DUMAN çıktı", []string{"pil", "sisti", "duman", "cikti"}},
		{"não\tchegou\n", []string{"nao", "chegou"}},
		{"4S 1300mAh", []string{"4s", "1300mah"}},
	}
	for _, tt := range tests {
		if got := words(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
