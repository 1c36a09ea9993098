package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// How the admin's tools read a request's body.

// decodeBody reads an admin request's JSON body into v: the one place the
// admin's tools decode one. A field v does not have (a misspelt "tll" that
// would give an invite of the default week), a field named twice, and
// anything after the JSON value are refused, never dropped or guessed.
func decodeBody(body io.Reader, v any) error {
	raw, err := io.ReadAll(body)
	if err != nil {
		return decodeError(err)
	}
	if key := twiceNamed(raw); key != "" {
		return badRequest(fmt.Sprintf("the request body names the field %s twice: name it once", echo(key)))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		var big *http.MaxBytesError
		if errors.As(err, &big) {
			return err
		}
		return badRequest("the request body holds more after its JSON: send one JSON value, nothing after it")
	}
	return nil
}

// twiceNamed is a field that raw, a JSON object, names twice
// ({"user":"alice","user":"alcie"}: Go's decoder keeps the last, a form
// the first), or "" (none, or raw is no object: an import's list, its
// records read as they are).
func twiceNamed(raw []byte) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	var seen []string
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return "" // not JSON: the decode says so
		}
		// Go's decoder matches a field's name under Unicode's simple case
		// folding, as strings.EqualFold does ("uſer" is "user"), not ToLower.
		if slices.ContainsFunc(seen, func(s string) bool { return strings.EqualFold(s, key) }) {
			return fmt.Sprintf("%q", key)
		}
		seen = append(seen, key)
		if err := dec.Decode(new(json.RawMessage)); err != nil {
			return ""
		}
	}
	return ""
}

// decodeError is a request body that is not the JSON asked for.
func decodeError(err error) error {
	var big *http.MaxBytesError
	if errors.As(err, &big) {
		return err
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return badRequest(fmt.Sprintf("the request body's field %s is not one this request takes: check its spelling", echo(field)))
	}
	return &adminError{http.StatusBadRequest, fmt.Errorf("the request body is not valid JSON: %v", err)}
}
