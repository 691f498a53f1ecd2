package freshdeskfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
)

// fieldError is one entry of a Freshdesk validation answer (API v2,
// "Error Response").
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Code    string `json:"code"`
}

// Messages Freshdesk gives for the error codes the fake uses.
const (
	msgUnexpected = "Unexpected/invalid field in request"
	msgString     = "It should be a/an String"
	msgInteger    = "It should be a/an Integer"
	msgBoolean    = "It should be a/an Boolean"
	msgArray      = "It should be a/an Array"
)

// maxBody bounds a request body the fake reads: 20 MB of attachments
// and the form around them.
const maxBody = 21 << 20

// input is a request body, JSON or multipart/form-data, as values the
// handlers check: JSON values (json.Number for numbers) or, from a form,
// strings, []any for name[] fields and map[string]any for name[key].
type input struct {
	vals  map[string]any
	form  bool // from multipart/form-data: scalars are strings
	files []Attachment
}

// errUnsupported is a body whose Content-Type Freshdesk refuses (415).
type errUnsupported struct{ ctype string }

func (e errUnsupported) Error() string { return "unsupported content type " + e.ctype }

// readInput reads r's body. It returns errUnsupported for a Content-Type
// other than JSON or multipart, and a fieldError for a body that cannot
// be read.
func readInput(r *http.Request) (*input, error) {
	ctype := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return nil, errUnsupported{ctype}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxBody {
		return nil, &fieldError{Field: "attachments", Message: "The cumulative size of all attachments cannot exceed 20MB", Code: "invalid_size"}
	}
	switch mt {
	case "application/json":
		in := &input{vals: map[string]any{}}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&in.vals); err != nil || in.vals == nil {
			return nil, &fieldError{Message: "Request body has invalid json format", Code: "invalid_json"}
		}
		return in, nil
	case "multipart/form-data":
		return readForm(body, params["boundary"])
	}
	return nil, errUnsupported{ctype}
}

func (e *fieldError) Error() string { return e.Field + ": " + e.Message }

// readForm reads a multipart/form-data body the way Freshdesk's servers
// (Rails) do: "a[]" fields make arrays, "a[b]" fields make maps, and
// attachments[] parts with a file name are files.
func readForm(body []byte, boundary string) (*input, error) {
	if boundary == "" {
		return nil, &fieldError{Message: "Request body has invalid multipart format", Code: "invalid_multipart"}
	}
	in := &input{vals: map[string]any{}, form: true}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &fieldError{Message: "Request body has invalid multipart format", Code: "invalid_multipart"}
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, &fieldError{Message: "Request body has invalid multipart format", Code: "invalid_multipart"}
		}
		name := p.FormName()
		if p.FileName() != "" {
			if name != "attachments[]" {
				return nil, &fieldError{Field: strings.TrimSuffix(name, "[]"), Message: msgUnexpected, Code: "invalid_field"}
			}
			ct := p.Header.Get("Content-Type")
			if ct == "" {
				ct = "application/octet-stream"
			}
			in.files = append(in.files, Attachment{Name: p.FileName(), ContentType: ct, Size: int64(len(data)), Data: data})
			continue
		}
		v := string(data)
		switch {
		case strings.HasSuffix(name, "[]"):
			key := strings.TrimSuffix(name, "[]")
			arr, _ := in.vals[key].([]any)
			in.vals[key] = append(arr, v)
		case strings.HasSuffix(name, "]") && strings.Contains(name, "["):
			i := strings.IndexByte(name, '[')
			key, sub := name[:i], name[i+1:len(name)-1]
			m, ok := in.vals[key].(map[string]any)
			if !ok {
				m = map[string]any{}
				in.vals[key] = m
			}
			m[sub] = v
		default:
			in.vals[name] = v
		}
	}
	return in, nil
}

// unknown returns an error for each field not in allowed.
func (in *input) unknown(allowed ...string) []fieldError {
	var errs []fieldError
	for k := range in.vals {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
				break
			}
		}
		if !ok {
			errs = append(errs, fieldError{Field: k, Message: msgUnexpected, Code: "invalid_field"})
		}
	}
	return errs
}

func (in *input) has(name string) bool { _, ok := in.vals[name]; return ok }

// str returns text field name; ok is false when it is absent.
func (in *input) str(name string, errs *[]fieldError) (string, bool) {
	v, ok := in.vals[name]
	if !ok {
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		*errs = append(*errs, fieldError{Field: name, Message: msgString, Code: "datatype_mismatch"})
		return "", false
	}
	return s, true
}

// integer returns number field name; ok is false when it is absent.
func (in *input) integer(name string, errs *[]fieldError) (int64, bool) {
	v, ok := in.vals[name]
	if !ok {
		return 0, false
	}
	var text string
	switch x := v.(type) {
	case json.Number:
		text = x.String()
	case string:
		if !in.form {
			*errs = append(*errs, fieldError{Field: name, Message: msgInteger, Code: "datatype_mismatch"})
			return 0, false
		}
		text = x
	default:
		*errs = append(*errs, fieldError{Field: name, Message: msgInteger, Code: "datatype_mismatch"})
		return 0, false
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		*errs = append(*errs, fieldError{Field: name, Message: msgInteger, Code: "datatype_mismatch"})
		return 0, false
	}
	return n, true
}

// boolean returns boolean field name; ok is false when it is absent.
func (in *input) boolean(name string, errs *[]fieldError) (bool, bool) {
	v, ok := in.vals[name]
	if !ok {
		return false, false
	}
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		if in.form && (x == "true" || x == "false") {
			return x == "true", true
		}
	}
	*errs = append(*errs, fieldError{Field: name, Message: msgBoolean, Code: "datatype_mismatch"})
	return false, false
}

// strings returns array field name of texts; ok is false when absent.
func (in *input) strings(name string, errs *[]fieldError) ([]string, bool) {
	v, ok := in.vals[name]
	if !ok {
		return nil, false
	}
	arr, isArr := v.([]any)
	if !isArr {
		*errs = append(*errs, fieldError{Field: name, Message: msgArray, Code: "datatype_mismatch"})
		return nil, false
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		s, isStr := e.(string)
		if !isStr {
			*errs = append(*errs, fieldError{Field: name, Message: "It should contain elements of type String only", Code: "datatype_mismatch"})
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}
