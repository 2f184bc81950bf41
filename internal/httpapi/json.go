package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// statusOf maps error codes to HTTP statuses: the one place that does.
var statusOf = map[string]int{
	hook.EInvalidJSON:         http.StatusBadRequest,
	hook.EInvalidParameter:    http.StatusBadRequest,
	hook.EInvalidReference:    http.StatusBadRequest,
	hook.EInvalidLimit:        http.StatusBadRequest,
	hook.EInvalidURL:          http.StatusBadRequest,
	hook.EInvalidEventTypes:   http.StatusBadRequest,
	hook.EInvalidFilter:       http.StatusBadRequest,
	hook.EInvalidEvent:        http.StatusBadRequest,
	hook.EUnknownEventType:    http.StatusBadRequest,
	hook.EUnknownField:        http.StatusBadRequest,
	hook.EUnauthorized:        http.StatusUnauthorized,
	hook.EForbidden:           http.StatusForbidden,
	hook.ENotFound:            http.StatusNotFound,
	hook.EMethodNotAllowed:    http.StatusMethodNotAllowed,
	hook.EIdempotencyConflict: http.StatusConflict,
	hook.EEndpointDisabled:    http.StatusConflict,
	hook.EAlreadyPending:      http.StatusConflict,
	hook.ENotRedeliverable:    http.StatusConflict,
	hook.EPayloadTooLarge:     http.StatusRequestEntityTooLarge,
	codeURITooLong:            http.StatusRequestURITooLong,
	codeHeadersTooLarge:       http.StatusRequestHeaderFieldsTooLarge,
	hook.ERateLimited:         http.StatusTooManyRequests,
	hook.EUnavailable:         http.StatusServiceUnavailable,
	hook.EInternal:            http.StatusInternalServerError,
}

// retryAfterOutage is the Retry-After, in seconds, of a 503 for a storage
// outage: short, since most outages (a failover, a restart, a reset
// connection) are over within seconds, and a client that retries on 503
// loses nothing (idempotency keys make POST /v1/events safe to repeat).
const retryAfterOutage = 2

type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// writeError answers with the error body of docs/api.md (Errors). Errors that are not
// *hook.Error are internal: logged here, and described to the client only
// as such.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *hook.Error
	switch {
	case errors.As(err, &he):
	case errors.Is(err, store.ErrUnavailable):
		// An outage, not a bug: the client may retry the same request.
		a.cfg.Logger.Warn("storage unavailable", slog.String("method", r.Method), slog.String("route", r.Pattern), slog.Any("error", err))
		he = hook.Errorf(hook.EUnavailable, "The database is unavailable for now; retry after %d s.", retryAfterOutage)
	default:
		a.cfg.Logger.Error("internal error", slog.String("method", r.Method), slog.String("route", r.Pattern), slog.Any("error", err))
		he = hook.Errorf(hook.EInternal, "Internal error; it has been logged.")
	}
	status, ok := statusOf[he.Code]
	if !ok {
		// A code without a status is a bug here, not the client's fault.
		a.cfg.Logger.Error("error code without a status", slog.String("code", he.Code), slog.String("route", r.Pattern))
		status = http.StatusInternalServerError
	}
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="hookd"`)
	case http.StatusServiceUnavailable:
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterOutage))
		}
	}
	writeJSON(w, status, errorBody{errorJSON{Code: he.Code, Message: he.Message, Field: he.Field}})
}

// writeJSON writes v with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"Internal error."}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// writeRaw writes a body that is already JSON.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// decode reads a JSON object body into dst, strictly: at most limit bytes,
// one value, each top-level field known and given once. Errors name the
// problem and the field.
func decode(w http.ResponseWriter, r *http.Request, limit int64, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return hook.Errorf(hook.EPayloadTooLarge, "The request body is larger than %d bytes.", limit)
		}
		return hook.Errorf(hook.EInvalidJSON, "The request body could not be read.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return hook.Errorf(hook.EInvalidJSON, "The request body is empty; send a JSON object.")
	}
	return decodeObject(body, dst)
}

// decodeObject decodes body, a JSON object, into the struct dst points to
// in one pass, one top-level field at a time. It holds the names to the
// fields' tags as they are spelled, which encoding/json does not (it takes
// null for an object, matches "Name" to "name" and lets the last of two
// equal names win). A value of the wrong type is reported only once the
// whole object has been read, so that an unknown or repeated field, or
// broken JSON, is reported first.
func decodeObject(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return jsonError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return hook.Errorf(hook.EInvalidJSON, "The request body must be a JSON object.")
	}
	fields := fieldIndex(reflect.TypeOf(dst))
	v := reflect.ValueOf(dst).Elem()
	// encoding/json turns invalid UTF-8 and lone surrogate escapes into
	// U+FFFD without a word; a JSON text must be UTF-8 (RFC 8259), so
	// such a body is refused, naming the field that holds the bad bytes.
	bad := badText(body)
	var (
		seen    []string
		typeErr error // the first value of the wrong type
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonError(err)
		}
		name, _ := tok.(string)
		i, known := fields[name]
		if !known {
			if bad >= 0 && !utf8.ValidString(name) {
				return hook.Errorf(hook.EInvalidJSON, "The request body is not valid UTF-8 (at byte %d).", bad)
			}
			return hook.FieldErrorf(hook.EUnknownField, name, "Unknown field %q.", name)
		}
		if slices.Contains(seen, name) {
			return hook.FieldErrorf(hook.EInvalidJSON, name, "The field %q appears more than once.", name)
		}
		seen = append(seen, name)
		start := dec.InputOffset()
		// A type error leaves the decoder past the value; other errors
		// stop it.
		err = dec.Decode(v.Field(i).Addr().Interface())
		if b := int64(bad); b >= start && b < dec.InputOffset() {
			return hook.FieldErrorf(hook.EInvalidJSON, name, "%s is not valid UTF-8 text (at byte %d of the body): "+
				"invalid bytes or an unpaired surrogate escape.", name, bad)
		}
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			if typeErr == nil {
				te.Field = strings.TrimSuffix(name+"."+te.Field, ".")
				typeErr = te
			}
		case err != nil:
			return jsonError(err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return jsonError(err)
	}
	if typeErr != nil {
		return jsonError(typeErr)
	}
	if bad >= 0 {
		return hook.Errorf(hook.EInvalidJSON, "The request body is not valid UTF-8 (at byte %d).", bad)
	}
	if dec.More() {
		return hook.Errorf(hook.EInvalidJSON, "The request body holds more than one JSON value.")
	}
	return nil
}

// badText returns the offset of the first byte of body that is not valid
// UTF-8 or that starts a \u escape of an unpaired UTF-16 surrogate, or -1.
func badText(body []byte) int {
	if utf8.Valid(body) && !bytes.Contains(body, []byte(`\u`)) {
		return -1 // the common case, checked fast
	}
	for i := 0; i < len(body); {
		c := body[i]
		if c == '\\' && i+1 < len(body) {
			if body[i+1] != 'u' {
				i += 2 // \\, \" and the rest: the next byte is not an escape
				continue
			}
			r := hex4(body[i+2:])
			switch {
			case r >= 0xd800 && r < 0xdc00: // high surrogate: a low one must follow
				if len(body) >= i+12 && body[i+6] == '\\' && body[i+7] == 'u' {
					if lo := hex4(body[i+8:]); lo >= 0xdc00 && lo < 0xe000 {
						i += 12
						continue
					}
				}
				return i
			case r >= 0xdc00 && r < 0xe000:
				return i
			}
			i += 2
			continue
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(body[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// hex4 parses the 4 hex digits at the start of b, or returns -1.
func hex4(b []byte) int {
	if len(b) < 4 {
		return -1
	}
	n := 0
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | int(c-'A'+10)
		default:
			return -1
		}
	}
	return n
}

// fieldIndex maps the JSON names of the fields of the struct t points to,
// as their tags spell them, to the fields' indexes.
func fieldIndex(t reflect.Type) map[string]int {
	if v, ok := fieldIndexCache.Load(t); ok {
		return v.(map[string]int)
	}
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		panic("httpapi: decode needs a pointer to a struct, not " + t.String())
	}
	index := map[string]int{}
	st := t.Elem()
	for i := range st.NumField() {
		f := st.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		index[name] = i
	}
	fieldIndexCache.Store(t, index)
	return index
}

var fieldIndexCache sync.Map // reflect.Type → map[string]int

// jsonError describes a decoding error.
func jsonError(err error) error {
	var (
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
		maxBytes *http.MaxBytesError
	)
	switch {
	case errors.As(err, &syntax) && strings.Contains(syntax.Error(), "exceeded max depth"):
		return hook.Errorf(hook.EInvalidJSON, "The request body nests arrays or objects too deeply (at byte %d).", syntax.Offset)
	case errors.As(err, &syntax):
		return hook.Errorf(hook.EInvalidJSON, "The request body is not valid JSON (at byte %d).", syntax.Offset)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return hook.Errorf(hook.EInvalidJSON, "The request body must be a JSON object.")
		}
		return hook.FieldErrorf(hook.EInvalidJSON, field, "%s must be %s, not a JSON %s.", field, jsonTypeName(typeErr.Type.String()), typeErr.Value)
	case errors.As(err, &maxBytes):
		return hook.Errorf(hook.EPayloadTooLarge, "The request body is too large.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return hook.Errorf(hook.EInvalidJSON, "The request body is not valid JSON (it ends too early).")
	}
	return hook.Errorf(hook.EInvalidJSON, "The request body is not valid JSON.")
}

func jsonTypeName(goType string) string {
	switch {
	case goType == "string" || goType == "*string":
		return "a string"
	case goType == "bool" || goType == "*bool":
		return "true or false"
	case strings.Contains(goType, "[]string"):
		return "a list of strings"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "*int"):
		return "an integer"
	}
	return "a " + goType
}

// Cursors are opaque to clients: base64url of "<kind>:<position>". One
// hookd did not issue (or of another list) is an invalid_parameter.
func encodeCursor(kind, pos string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + pos))
}

func decodeCursor(kind, cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	k, pos, ok := strings.Cut(string(raw), ":")
	if err != nil || !ok || k != kind || pos == "" {
		return "", hook.FieldErrorf(hook.EInvalidParameter, "cursor", "This cursor was not issued for this list; pass next_cursor back as it was returned.")
	}
	return pos, nil
}

// pageParams reads ?limit= and ?cursor= for a list whose positions are
// ids with the given prefix.
func pageParams(r *http.Request, kind, idPrefix string) (after string, limit int, err error) {
	limit, err = limitParam(r)
	if err != nil {
		return "", 0, err
	}
	after, err = decodeCursor(kind, r.URL.Query().Get("cursor"))
	if err != nil {
		return "", 0, err
	}
	if after != "" && !hook.ValidID(idPrefix, after) {
		return "", 0, hook.FieldErrorf(hook.EInvalidParameter, "cursor", "This cursor was not issued for this list.")
	}
	return after, limit, nil
}

func limitParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 500 {
		return 0, hook.FieldErrorf(hook.EInvalidLimit, "limit", "limit is a whole number from 1 to 500.")
	}
	return n, nil
}

// list is the shape of every list answer.
type list[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func newList[T any](items []T, next string) list[T] {
	if items == nil {
		items = []T{}
	}
	l := list[T]{Data: items}
	if next != "" {
		l.NextCursor = &next
	}
	return l
}
