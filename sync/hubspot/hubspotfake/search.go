package hubspotfake

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The CRM search limits (https://developers.hubspot.com/docs/api-reference/search/guide#limits).
const (
	maxFilterGroups  = 5
	maxGroupFilters  = 6
	maxFilters       = 18
	maxSearchPage    = 200
	maxSearchResults = 10000
	maxQueryChars    = 3000
)

// filter is one search filter.
type filter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        *string  `json:"value"`
	HighValue    *string  `json:"highValue"`
	Values       []string `json:"values"`
}

type searchInput struct {
	FilterGroups []struct {
		Filters []filter `json:"filters"`
	} `json:"filterGroups"`
	Sorts []struct {
		PropertyName string `json:"propertyName"`
		Direction    string `json:"direction"`
	} `json:"sorts"`
	Properties []string `json:"properties"`
	Limit      *int     `json:"limit"`
	After      string   `json:"after"`
	Query      string   `json:"query"`
}

// timeProps are the date-time properties, compared as times.
var timeProps = []string{"hs_lastmodifieddate", "createdate", "hs_createdate", "hs_timestamp", "lastmodifieddate"}

// enumProps are the enumeration properties, compared case-sensitively.
var enumProps = []string{"hs_email_direction", "hs_email_status", "hs_ticket_priority", "source_type", "hs_pipeline", "hs_pipeline_stage"}

// search handles POST /crm/v3/objects/{kind}/search.
func (s *Server) search(r *http.Request, kind string) (int, any, *apiError) {
	if r.ContentLength > maxQueryChars {
		return 0, nil, invalid("The request body is longer than 3000 characters")
	}
	var in searchInput
	if err := decodeJSON(r, &in); err != nil {
		return 0, nil, err
	}
	if len(in.FilterGroups) > maxFilterGroups {
		return 0, nil, invalid("Too many filter groups: %d, the limit is %d", len(in.FilterGroups), maxFilterGroups)
	}
	total := 0
	for _, g := range in.FilterGroups {
		if len(g.Filters) > maxGroupFilters {
			return 0, nil, invalid("Too many filters in a group: %d, the limit is %d", len(g.Filters), maxGroupFilters)
		}
		total += len(g.Filters)
		for _, f := range g.Filters {
			if err := checkFilter(f); err != nil {
				return 0, nil, err
			}
		}
	}
	if total > maxFilters {
		return 0, nil, invalid("Too many filters: %d, the limit is %d", total, maxFilters)
	}
	if len(in.Sorts) > 1 {
		return 0, nil, invalid("Only one sort is supported")
	}
	limit := 10
	if in.Limit != nil {
		limit = *in.Limit
	}
	if limit < 0 || limit > maxSearchPage {
		return 0, nil, invalid("limit must be between 0 and %d, not %d", maxSearchPage, limit)
	}
	offset := 0
	if in.After != "" {
		n, err := strconv.Atoi(in.After)
		if err != nil || n < 0 {
			return 0, nil, invalid("after %q must be an integer", in.After)
		}
		offset = n
	}
	if offset+limit > maxSearchResults {
		return 0, nil, invalid("The search endpoints are limited to %d total results; paging beyond them is not allowed", maxSearchResults)
	}
	names := defaults(kind)
	for _, p := range in.Properties {
		if !slices.Contains(names, p) {
			names = append(names, p)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var found []*object
	for _, o := range s.objects[kind] {
		if s.matches(o, in) {
			found = append(found, o)
		}
	}
	sortBy, desc := "", false
	if len(in.Sorts) == 1 {
		sortBy = in.Sorts[0].PropertyName
		switch in.Sorts[0].Direction {
		case "ASCENDING", "":
		case "DESCENDING":
			desc = true
		default:
			return 0, nil, invalid("direction %q must be ASCENDING or DESCENDING", in.Sorts[0].Direction)
		}
	}
	slices.SortFunc(found, func(a, b *object) int {
		c := 0
		if sortBy != "" {
			c = compareValues(sortBy, a.props[sortBy], b.props[sortBy])
			if desc {
				c = -c
			}
		}
		if c == 0 {
			c = cmp.Compare(len(a.id), len(b.id))
		}
		if c == 0 {
			c = strings.Compare(a.id, b.id)
		}
		return c
	})
	results := []view{}
	for i := offset; i < len(found) && len(results) < limit; i++ {
		results = append(results, found[i].view(names))
	}
	out := map[string]any{"total": len(found), "results": results}
	if next := offset + limit; next < len(found) && limit > 0 {
		out["paging"] = map[string]any{"next": map[string]string{"after": strconv.Itoa(next), "link": "?after=" + strconv.Itoa(next)}}
	}
	return http.StatusOK, out, nil
}

// checkFilter validates one filter's operator and values.
func checkFilter(f filter) *apiError {
	if f.PropertyName == "" {
		return invalid("A filter needs a propertyName")
	}
	switch f.Operator {
	case "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN":
		if f.Value == nil {
			return invalid("The %s filter on %s needs a value", f.Operator, f.PropertyName)
		}
	case "BETWEEN":
		if f.Value == nil || f.HighValue == nil {
			return invalid("The BETWEEN filter on %s needs value and highValue", f.PropertyName)
		}
	case "IN", "NOT_IN":
		if len(f.Values) == 0 {
			return invalid("The %s filter on %s needs values", f.Operator, f.PropertyName)
		}
	case "HAS_PROPERTY", "NOT_HAS_PROPERTY":
	default:
		return invalid("%q is not a valid filter operator", f.Operator)
	}
	if slices.Contains(timeProps, f.PropertyName) && f.Value != nil {
		if _, ok := parseTime(*f.Value); !ok {
			return invalid("%s is not a valid date-time value for %s", *f.Value, f.PropertyName)
		}
	}
	return nil
}

// matches reports whether o passes any filter group (all of its filters).
// s.mu is held.
func (s *Server) matches(o *object, in searchInput) bool {
	if len(in.FilterGroups) == 0 {
		return true
	}
	for _, g := range in.FilterGroups {
		ok := true
		for _, f := range g.Filters {
			if !s.passes(o, f) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (s *Server) passes(o *object, f filter) bool {
	if to, ok := strings.CutPrefix(f.PropertyName, "associations."); ok {
		kind := kindOf(to)
		for _, l := range s.assoc[o.kind+":"+o.id+">"+kind] {
			if f.Value != nil && l.id == *f.Value {
				return f.Operator == "EQ"
			}
		}
		return f.Operator == "NEQ"
	}
	v, has := o.props[f.PropertyName]
	has = has && v != ""
	want := ""
	if f.Value != nil {
		want = *f.Value
	}
	switch f.Operator {
	case "HAS_PROPERTY":
		return has
	case "NOT_HAS_PROPERTY":
		return !has
	case "EQ":
		return has && equalValues(f.PropertyName, v, want)
	case "NEQ":
		return !has || !equalValues(f.PropertyName, v, want)
	case "IN":
		return has && slices.ContainsFunc(f.Values, func(w string) bool { return equalValues(f.PropertyName, v, w) })
	case "NOT_IN":
		return !has || !slices.ContainsFunc(f.Values, func(w string) bool { return equalValues(f.PropertyName, v, w) })
	case "GT":
		return has && compareValues(f.PropertyName, v, want) > 0
	case "GTE":
		return has && compareValues(f.PropertyName, v, want) >= 0
	case "LT":
		return has && compareValues(f.PropertyName, v, want) < 0
	case "LTE":
		return has && compareValues(f.PropertyName, v, want) <= 0
	case "BETWEEN":
		return has && compareValues(f.PropertyName, v, want) >= 0 && compareValues(f.PropertyName, v, *f.HighValue) <= 0
	case "CONTAINS_TOKEN":
		return has && strings.Contains(strings.ToLower(v), strings.Trim(strings.ToLower(want), "*"))
	case "NOT_CONTAINS_TOKEN":
		return !has || !strings.Contains(strings.ToLower(v), strings.Trim(strings.ToLower(want), "*"))
	}
	return false
}

func equalValues(prop, a, b string) bool {
	if slices.Contains(enumProps, prop) {
		return a == b
	}
	if slices.Contains(timeProps, prop) {
		return compareValues(prop, a, b) == 0
	}
	return strings.EqualFold(a, b)
}

// compareValues orders two values of prop: as times, as numbers, or as
// text.
func compareValues(prop, a, b string) int {
	if slices.Contains(timeProps, prop) {
		ta, oka := parseTime(a)
		tb, okb := parseTime(b)
		if oka && okb {
			return ta.Compare(tb)
		}
	}
	fa, erra := strconv.ParseFloat(a, 64)
	fb, errb := strconv.ParseFloat(b, 64)
	if erra == nil && errb == nil {
		return cmp.Compare(fa, fb)
	}
	return strings.Compare(a, b)
}
