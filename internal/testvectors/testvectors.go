// Package testvectors finds the third-party test material that sits beside
// the project in shared/testdata (SMS PDUs captured from networks, replies
// of real modems, conformance data). Tests read from it the vectors whose
// licence keeps them out of the project's own testdata folders.
package testvectors

import (
	"os"
	"path/filepath"
	"testing"
)

// Find returns the shared/testdata folder found by walking up from the
// working directory, or "" when there is none.
func Find() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "shared", "testdata")
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Dir returns the shared/testdata folder. Without it the test is skipped
// on a developer's machine and fails under CI=true, where a missing peer
// must never pass silently.
func Dir(t testing.TB) string {
	t.Helper()
	if p := Find(); p != "" {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("shared/testdata not found beside the project, and CI=true")
	}
	t.Skip("shared/testdata not found beside the project")
	return ""
}
