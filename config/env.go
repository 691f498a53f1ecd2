package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// EnvPrefix begins the name of every environment variable that [Load] reads.
const EnvPrefix = "COUNTERDESK_"

// EnvFile names an environment variable the command may read for the path of
// the configuration file. It is not a setting; [Load] ignores it rather than
// report it as unknown.
const EnvFile = EnvPrefix + "CONFIG"

// applyEnv sets the settings named by the COUNTERDESK_ variables of environ
// on c. It returns the name of the variable that set each setting, keyed by
// dotted key, and the problems found. When a variable appears twice, the
// later one wins.
func applyEnv(c *Config, environ []string) (map[string]string, []Problem) {
	byName := make(map[string]setting)
	for _, s := range settings() {
		byName[s.env()] = s
	}
	root := reflect.ValueOf(c).Elem()
	fromEnv := make(map[string]string)
	var problems []Problem
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) || name == EnvFile {
			continue
		}
		s, ok := byName[name]
		if !ok {
			problems = append(problems, Problem{Key: name, Message: "unknown environment variable", Source: SourceEnv})
			continue
		}
		if err := setText(root.FieldByIndex(s.index), value); err != nil {
			problems = append(problems, Problem{Key: name, Message: err.Error(), Source: SourceEnv})
			continue
		}
		fromEnv[s.key()] = name
	}
	return fromEnv, problems
}

// setText sets v from the text of an environment variable, converting it by
// v's type.
func setText(v reflect.Value, text string) error {
	if isText(v.Type()) {
		return v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(text))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return fmt.Errorf("invalid boolean %q: want true or false", text)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(text, 10, v.Type().Bits())
		if err != nil {
			return numberError(text, err)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(text, 10, v.Type().Bits())
		if err != nil {
			return numberError(text, err)
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(text, v.Type().Bits())
		if err != nil {
			return numberError(text, err)
		}
		v.SetFloat(f)
	case reflect.Slice:
		var parts []string
		for p := range strings.SplitSeq(text, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		s := reflect.MakeSlice(v.Type(), len(parts), len(parts))
		for i, p := range parts {
			if err := setText(s.Index(i), p); err != nil {
				return fmt.Errorf("element %d: %w", i+1, err)
			}
		}
		v.Set(s)
	default:
		return fmt.Errorf("cannot set a %s from the environment", v.Type())
	}
	return nil
}

// numberError describes a number that does not parse.
func numberError(text string, err error) error {
	if errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("number %s is out of range", text)
	}
	return fmt.Errorf("invalid number %q", text)
}
