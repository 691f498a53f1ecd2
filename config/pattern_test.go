package config

import (
	"strings"
	"testing"
)

func TestCompilePattern(t *testing.T) {
	tests := []struct {
		pattern string
		ok      bool
	}{
		{`\border\s*#?(\d+)`, true},
		{`\b1Z[0-9A-Z]{16}\b`, true},
		{`(\d{1000})`, true},
		{`(\d{1001})`, false}, // Go's own limit
		{`(\w{999}\d{999}[a-f]{999})`, false},
		{`(?:ab){400}(?:cd){400}`, true},
		{`(?:` + strings.Repeat("ab", 500) + `){1000}`, false},
		{`(?:(?:x{10}){10}){10}`, true},
		{`(?:x|y|z){700}`, true}, // a class of three letters
		{`(?:xa|yb|zc){700}`, false},
		{`(unclosed`, false},
	}
	for _, tt := range tests {
		re, err := CompilePattern(tt.pattern)
		if (err == nil) != tt.ok {
			t.Errorf("CompilePattern(%.40q) error = %v, want ok %v", tt.pattern, err, tt.ok)
		}
		if err == nil && re.String() != tt.pattern {
			t.Errorf("CompilePattern(%.40q) compiled %.40q", tt.pattern, re.String())
		}
	}
}
