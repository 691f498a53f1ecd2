package config

import (
	"encoding"
	"reflect"
	"slices"
	"strings"
)

// The file's keys are the toml tags of Config and of the structs it holds.
// This file derives them by reflection, so that a field added to a section, or
// a section added to Config, is read from the file and the environment
// without further code.

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// A setting is one key of the file that holds a value.
type setting struct {
	path  []string // table names and key, such as ["http", "listen"]
	index []int    // field index sequence in Config, for reflect.Value.FieldByIndex
	typ   reflect.Type
}

// key returns the dotted key, such as "http.listen".
func (s setting) key() string {
	return strings.Join(s.path, ".")
}

// env returns the name of the environment variable that overrides the
// setting, such as "COUNTERDESK_HTTP_LISTEN".
func (s setting) env() string {
	return EnvPrefix + strings.ToUpper(strings.Join(s.path, "_"))
}

// settings returns every setting of Config, in field order. The keys of
// arrays of tables, such as [[triage.categories]], are not settings: they can
// be set by the file only, not by the environment.
func settings() []setting {
	var list []setting
	var walk func(t reflect.Type, path []string, index []int)
	walk = func(t reflect.Type, path []string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, ok := tomlName(f)
			if !ok {
				continue
			}
			p := append(slices.Clone(path), name)
			x := append(slices.Clone(index), i)
			if isTable(f.Type) {
				walk(f.Type, p, x)
				continue
			}
			if isArray(f.Type) {
				continue // arrays of tables are set by the file only
			}
			list = append(list, setting{path: p, index: x, typ: f.Type})
		}
	}
	walk(reflect.TypeFor[Config](), nil, nil)
	return list
}

// lookup follows a key path from Config. It returns the type the path leads
// to, and whether the path names a table or a setting at all. A path goes
// through an array of tables to the keys of its elements: "automations.name"
// leads to the Name of an Automation.
func lookup(path []string) (reflect.Type, bool) {
	t := reflect.TypeFor[Config]()
	for _, part := range path {
		if isArray(t) {
			t = t.Elem()
		}
		if !isTable(t) {
			return nil, false
		}
		f, ok := fieldByName(t, part)
		if !ok {
			return nil, false
		}
		t = f.Type
	}
	return t, true
}

// fieldByName returns the field of struct type t whose toml name is name.
func fieldByName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if n, ok := tomlName(f); ok && n == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// tomlName returns the key of a struct field, and false for a field that is
// not part of the file.
func tomlName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "-" || name == "" {
		return "", false
	}
	return name, true
}

// isTable reports whether values of type t are written as TOML tables: structs,
// except those that read themselves from text, such as Duration.
func isTable(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && !isText(t)
}

// isText reports whether values of type t read themselves from a string.
func isText(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(textUnmarshalerType)
}

// isArray reports whether values of type t are written as arrays of tables,
// [[name]]: slices of structs.
func isArray(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && isTable(t.Elem())
}
