package config

import (
	"fmt"
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

// MarshalText formats the duration as [time.Duration.String] does.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.Duration.String()), nil
}
