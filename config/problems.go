package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// SourceEnv is the [Problem.Source] of a problem found in an environment
// variable.
const SourceEnv = "env"

// Problem is one thing wrong with a configuration.
type Problem struct {
	// Line is the 1-based line of the file the problem is on, or 0 when the
	// setting is not in the file: it came from the default or from the
	// environment.
	Line int
	// Key names the setting as a dotted key such as "http.listen", or, for a
	// problem found in the environment, as the variable's name. It is empty
	// for a problem that belongs to no key, such as a syntax error.
	Key string
	// Message says what is wrong, in lower case.
	Message string
	// Source is where the problem was found when it is not the file:
	// SourceEnv for the environment.
	Source string

	// at is the dotted key whose line the problem is on, when that is not
	// Key: a problem of one element of an array of tables is named by the
	// element ("triage.categories \"warranty\"") but found on the line of
	// one of its keys ("triage.categories[3].patterns").
	at string
}

// line returns the line of the problem in a file whose settings are on the
// given lines. A problem of an element of an array of tables about a key
// that the file leaves out, such as a missing "after", is on the line of the
// element's table.
func (p Problem) line(lines map[string]int) int {
	if p.at == "" {
		return lines[p.Key]
	}
	key := p.at
	for {
		if n, ok := lines[key]; ok {
			return n
		}
		i := strings.LastIndexByte(key, '.')
		if i < 0 {
			return 0
		}
		key = key[:i]
	}
}

// Problems is the error returned by [Parse], [Load] and [Config.Validate]. It
// lists every problem found, sorted by line.
type Problems struct {
	// File is the path of the configuration file, or "" when there is none.
	File string
	List []Problem
}

// Error returns one line per problem, in the form "FILE:LINE: KEY: MESSAGE".
// The line is left out when it is 0 and the key when it is empty; FILE is
// "config" when there is no file, and the source, such as "env", when the
// problem does not come from the file.
func (p *Problems) Error() string {
	file := p.File
	if file == "" {
		file = "config"
	}
	if len(p.List) == 0 {
		return file + ": no problems"
	}
	var b strings.Builder
	for i, pr := range p.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		if pr.Source != "" {
			b.WriteString(pr.Source)
		} else {
			b.WriteString(file)
		}
		if pr.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(pr.Line))
		}
		b.WriteString(": ")
		if pr.Key != "" {
			b.WriteString(pr.Key)
			b.WriteString(": ")
		}
		b.WriteString(pr.Message)
	}
	return b.String()
}

// sortProblems orders problems by line, then key, keeping the order in
// which problems of the same line and key were found.
func sortProblems(list []Problem) {
	slices.SortStableFunc(list, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), strings.Compare(a.Key, b.Key))
	})
}
