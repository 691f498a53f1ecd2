package config

import (
	"fmt"
	"strings"
	"time"
)

// Duration is a [time.Duration] written in the file as a string such as
// "72h", "90s" or "1h30m", in the syntax of [time.ParseDuration].
type Duration struct {
	time.Duration
}

// UnmarshalText parses a duration such as "90s".
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("invalid duration %q: want a number and a unit, such as \"90s\", \"15m\" or \"72h\"", text)
	}
	d.Duration = v
	return nil
}

// MarshalText formats the duration as [Duration.String] does.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// String formats the duration as [time.Duration.String] does, without zero
// minutes and seconds at the end: "72h" rather than "72h0m0s".
func (d Duration) String() string {
	s := d.Duration.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
