package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Parse reads the contents of a configuration file. Keys the file does not set
// keep their [Default]. Parse does not read the environment; [Load] does.
//
// If anything is wrong, Parse returns a [*Problems] error that lists every
// problem it finds, each with the line of the file it is on. Problems with
// the structure of the file (syntax, unknown keys, values of the wrong type)
// are reported first; the values themselves are validated, as by
// [Config.Validate], once the structure is right.
func Parse(data []byte) (Config, error) {
	c, lines, problems := decode(data)
	if len(problems) == 0 {
		problems = c.validate()
		for i := range problems {
			problems[i].Line = problems[i].line(lines)
		}
	}
	if len(problems) > 0 {
		sortProblems(problems)
		return Config{}, &Problems{List: problems}
	}
	return c, nil
}

// Load reads the configuration file at path, applies the environment
// overrides in environ and validates the result. A path of "" means there is
// no file: the configuration starts from [Default].
//
// environ holds "NAME=value" strings, as returned by [os.Environ]. Each
// setting can be overridden by the variable COUNTERDESK_<TABLE>_<KEY>, in
// upper case: COUNTERDESK_HTTP_LISTEN sets http.listen. Durations are written
// as in the file ("90s"); a list is written with commas between its
// elements. Variables without the COUNTERDESK_ prefix are ignored; one with
// the prefix that names no setting is a problem, except [EnvFile].
//
// If the file cannot be read, Load returns the error from [os.ReadFile],
// wrapped. If anything in the file or the environment is wrong, it returns a
// [*Problems] error that lists every problem found; problems from the
// environment have Source [SourceEnv] and the variable's name as Key.
func Load(path string, environ []string) (Config, error) {
	c := Default()
	var lines map[string]int
	var problems []Problem
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("read config: %w", err)
		}
		c, lines, problems = decode(data)
	}
	fromEnv, envProblems := applyEnv(&c, environ)
	problems = append(problems, envProblems...)
	if len(problems) == 0 {
		for _, p := range c.validate() {
			if name, ok := fromEnv[p.Key]; ok {
				p.Key, p.Source = name, SourceEnv
			} else {
				p.Line = p.line(lines)
			}
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		sortProblems(problems)
		return Config{}, &Problems{File: path, List: problems}
	}
	return c, nil
}

// decode reads data on top of the defaults without validating the values. It
// returns the configuration, the line of each setting in data and the
// problems found. After a problem the configuration is only partly decoded.
func decode(data []byte) (Config, map[string]int, []Problem) {
	c := Default()
	lines, problems := scan(data)
	if len(problems) > 0 {
		return c, lines, problems
	}
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, lines, decodeProblems(err)
	}
	return c, lines, nil
}

// decodeProblems turns an error of the TOML decoder into problems. scan
// finds most problems first, so these are the rarer ones, such as a table
// defined twice.
func decodeProblems(err error) []Problem {
	var missing *toml.StrictMissingError
	if errors.As(err, &missing) {
		list := make([]Problem, 0, len(missing.Errors))
		for _, e := range missing.Errors {
			line, _ := e.Position()
			list = append(list, Problem{Line: line, Key: strings.Join(e.Key(), "."), Message: "unknown key"})
		}
		return list
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		return []Problem{{Line: line, Key: strings.Join(de.Key(), "."), Message: strings.TrimPrefix(de.Error(), "toml: ")}}
	}
	return []Problem{{Message: strings.TrimPrefix(err.Error(), "toml: ")}}
}
