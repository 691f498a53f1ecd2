package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// scan reads the structure of a TOML document without decoding it. It returns
// the line of each setting the document sets, keyed by dotted key, and every
// problem it can see: a syntax error, unknown tables and keys, values of the
// wrong type, invalid durations and settings given twice.
//
// The decoder stops at the first wrong value and reports unknown keys only
// for a document without one; scan exists so that one run reports them all.
func scan(data []byte) (map[string]int, []Problem) {
	s := scanner{
		lines:  newLineIndex(data),
		keys:   make(map[string]int),
		arrays: make(map[string]int),
	}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	inTable := true // false under the header of a table that cannot be read
	for p.NextExpression() {
		expr := p.Expression()
		switch expr.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keyPath(expr.Key())
			s.prefix, inTable = s.table(expr, table)
		case unstable.KeyValue:
			if inTable {
				s.keyValue(table, expr)
			}
		}
	}
	if err := p.Error(); err != nil {
		s.syntaxError(data, err)
	}
	return s.keys, s.problems
}

// scanner holds the state of one scan.
//
// The keys it records for the elements of arrays of tables hold the 1-based
// index of the element after the array's name: the name of the second
// [[triage.categories]] is "triage.categories[2].name", and the element
// itself, whose line is that of its header, is "triage.categories[2]".
type scanner struct {
	lines    lineIndex
	keys     map[string]int // dotted key to line
	arrays   map[string]int // array of tables, as a dotted key, to its length so far
	prefix   string         // dotted key of the current table, with indexes
	problems []Problem
}

func (s *scanner) add(line int, key, format string, args ...any) {
	s.problems = append(s.problems, Problem{Line: line, Key: key, Message: fmt.Sprintf(format, args...)})
}

// table checks a [table] or [[array table]] header. It returns the dotted
// key of the table, with the index of each array element on its path, and
// whether the keys under it can be read. A header [[name]] adds an element
// to the array of tables name.
func (s *scanner) table(expr *unstable.Node, path []string) (string, bool) {
	line := s.keyLine(expr)
	key := strings.Join(path, ".")
	t, ok := lookup(path)
	switch {
	case !ok:
		s.add(line, key, "unknown table")
		return "", false
	case isArray(t) && expr.Kind != unstable.ArrayTable:
		s.add(line, key, "must be an array of tables [[%s]], not a table [%s]", key, key)
		return "", false
	case isArray(t):
	case !isTable(t):
		s.add(line, key, "is a setting, not a table")
		return "", false
	case expr.Kind == unstable.ArrayTable:
		s.add(line, key, "must be a table [%s], not an array of tables [[%s]]", key, key)
		return "", false
	}
	concrete, missing := s.element(path, expr.Kind == unstable.ArrayTable)
	if missing != "" {
		s.add(line, key, "must come after a [[%s]] table", missing)
		return "", false
	}
	if isArray(t) {
		s.keys[concrete] = line
	}
	return concrete, true
}

// element returns the dotted key of the table at path, in which each array
// of tables on the path is followed by the index of its last element, as in
// "automations[2].then[1]". If add is set, the path names an array of tables
// and a new element is added to it first. If an array on the path has no
// element yet, element returns its name as missing.
func (s *scanner) element(path []string, add bool) (key, missing string) {
	t := reflect.TypeFor[Config]()
	var b strings.Builder
	for i, part := range path {
		if isArray(t) {
			t = t.Elem()
		}
		f, _ := fieldByName(t, part)
		t = f.Type
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
		if !isArray(t) {
			continue
		}
		name := b.String()
		if add && i == len(path)-1 {
			s.arrays[name]++
		}
		n := s.arrays[name]
		if n == 0 {
			return "", strings.Join(path[:i+1], ".")
		}
		b.WriteString("[" + strconv.Itoa(n) + "]")
	}
	return b.String(), ""
}

// keyValue checks a key = value expression under the table at path.
func (s *scanner) keyValue(table []string, expr *unstable.Node) {
	keys := keyPath(expr.Key())
	path := append(slices.Clone(table), keys...)
	key := strings.Join(keys, ".")
	if s.prefix != "" {
		key = s.prefix + "." + key
	}
	s.value(path, key, s.keyLine(expr), expr.Value())
}

// value checks the value set for path on the given line, descending into
// inline tables. key is the dotted key of path with the index of each array
// element on the way.
func (s *scanner) value(path []string, key string, line int, n *unstable.Node) {
	t, ok := lookup(path)
	if !ok {
		s.add(line, key, "unknown key")
		return
	}
	if isArray(t) {
		s.inlineArray(path, key, line, n)
		return
	}
	if isTable(t) {
		if n.Kind != unstable.InlineTable {
			s.add(line, key, "must be a table, not %s", kindName(n.Kind))
			return
		}
		it := n.Children()
		for it.Next() {
			kv := it.Node()
			if kv.Kind == unstable.KeyValue {
				keys := keyPath(kv.Key())
				s.value(append(slices.Clone(path), keys...), key+"."+strings.Join(keys, "."), s.keyLine(kv), kv.Value())
			}
		}
		return
	}
	if first, ok := s.keys[key]; ok {
		s.add(line, key, "set twice; it is first set on line %d", first)
		return
	}
	s.keys[key] = line
	if msg := checkValue(t, n); msg != "" {
		s.add(line, key, "%s", msg)
	}
}

// inlineArray checks an array of tables written as an array of inline
// tables, such as open = [{days = ["sat"], from = "10:00", to = "16:00"}].
func (s *scanner) inlineArray(path []string, key string, line int, n *unstable.Node) {
	if n.Kind != unstable.Array {
		s.add(line, key, "must be an array of tables, not %s", kindName(n.Kind))
		return
	}
	if first, ok := s.keys[key]; ok {
		s.add(line, key, "set twice; it is first set on line %d", first)
		return
	}
	s.keys[key] = line
	it := n.Children()
	for i := 1; it.Next(); i++ {
		elem := it.Node()
		if elem.Kind != unstable.InlineTable {
			s.add(line, key, "each element must be a table, such as {name = \"x\"}, not %s", kindName(elem.Kind))
			return
		}
		ekey := key + "[" + strconv.Itoa(i) + "]"
		s.keys[ekey] = line
		kvs := elem.Children()
		for first := true; kvs.Next(); first = false {
			kv := kvs.Node()
			if kv.Kind != unstable.KeyValue {
				continue
			}
			keys := keyPath(kv.Key())
			kline := s.keyLine(kv)
			if first {
				s.keys[ekey] = kline // the element starts where its first key is
			}
			s.value(append(slices.Clone(path), keys...), ekey+"."+strings.Join(keys, "."), kline, kv.Value())
		}
	}
}

// keyLine returns the line of the first part of the key of a table header or
// key-value expression.
func (s *scanner) keyLine(expr *unstable.Node) int {
	it := expr.Key()
	if !it.Next() {
		return 0
	}
	return s.lines.line(int(it.Node().Raw.Offset))
}

// syntaxError records the error that stopped the parser.
func (s *scanner) syntaxError(data []byte, err error) {
	var perr *unstable.ParserError
	if !errors.As(err, &perr) {
		s.add(0, "", "syntax error: %v", err)
		return
	}
	line := 0
	// The highlight is a subslice of data: the difference of their
	// capacities is its offset.
	if off := cap(data) - cap(perr.Highlight); off >= 0 && off+len(perr.Highlight) <= len(data) {
		line = s.lines.line(off)
	}
	s.add(line, strings.Join(perr.Key, "."), "syntax error: %s", perr.Message)
}

// checkValue returns what is wrong with the value n for a setting of type t,
// or "" if the decoder can store it. It checks the kind of the value, the
// range of integers and the text of types such as Duration; anything it
// misses is left to the decoder.
func checkValue(t reflect.Type, n *unstable.Node) string {
	want, ok := wantKind(t)
	if !ok {
		return ""
	}
	if n.Kind != want && !(want == unstable.Float && n.Kind == unstable.Integer) {
		return fmt.Sprintf("must be %s, not %s", describe(t), kindName(n.Kind))
	}
	switch {
	case isText(t):
		u := reflect.New(t).Interface().(encoding.TextUnmarshaler)
		if err := u.UnmarshalText(n.Data); err != nil {
			return err.Error()
		}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		if _, err := strconv.ParseInt(string(n.Data), 0, t.Bits()); errors.Is(err, strconv.ErrRange) {
			return fmt.Sprintf("%s is out of range", n.Data)
		}
	case t.Kind() == reflect.Slice:
		it := n.Children()
		for it.Next() {
			if msg := checkValue(t.Elem(), it.Node()); msg != "" {
				return "each element " + msg
			}
		}
	}
	return ""
}

// wantKind returns the kind of TOML value that a setting of type t takes.
func wantKind(t reflect.Type) (unstable.Kind, bool) {
	if isText(t) {
		return unstable.String, true
	}
	switch t.Kind() {
	case reflect.String:
		return unstable.String, true
	case reflect.Bool:
		return unstable.Bool, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return unstable.Integer, true
	case reflect.Float32, reflect.Float64:
		return unstable.Float, true
	case reflect.Slice:
		return unstable.Array, true
	}
	return unstable.Invalid, false
}

// describe names the values a setting of type t takes, for messages.
func describe(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[Duration]():
		return `a duration in quotes, such as "90s"`
	case isText(t), t.Kind() == reflect.String:
		return "a string in quotes"
	case t.Kind() == reflect.Slice:
		return "an array, such as [\"a\", \"b\"]"
	}
	want, _ := wantKind(t)
	return kindName(want)
}

// kindName names a kind of TOML value, for messages.
func kindName(k unstable.Kind) string {
	switch k {
	case unstable.String:
		return "a string"
	case unstable.Bool:
		return "true or false"
	case unstable.Integer:
		return "an integer"
	case unstable.Float:
		return "a number"
	case unstable.Array:
		return "an array"
	case unstable.InlineTable:
		return "a table"
	case unstable.LocalDate, unstable.LocalTime, unstable.LocalDateTime, unstable.DateTime:
		return "a date or time"
	}
	return strings.ToLower(k.String())
}

// keyPath returns the parts of a dotted key.
func keyPath(it unstable.Iterator) []string {
	var path []string
	for it.Next() {
		path = append(path, string(it.Node().Data))
	}
	return path
}

// lineIndex maps byte offsets of a document to 1-based line numbers.
type lineIndex []int // offsets of the newlines

func newLineIndex(data []byte) lineIndex {
	var x lineIndex
	for i, c := range data {
		if c == '\n' {
			x = append(x, i)
		}
	}
	return x
}

// line returns the line that holds the byte at offset.
func (x lineIndex) line(offset int) int {
	n, _ := slices.BinarySearch(x, offset)
	return n + 1
}
