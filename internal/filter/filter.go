// Package filter is hookd's payload filter language: a JSON object that an
// endpoint sets as its "filter" and that each event envelope is matched
// against before a delivery to that endpoint is made (docs/delivery.md,
// "Payload filters").
//
// A filter is parsed and validated once (Parse) into a tree of conditions;
// matching an event decodes its envelope once (Decode) and walks the tree
// without allocating per condition. Comparisons are typed: a string never
// equals a number, whatever their text. Parse bounds the size, the nesting
// depth and the number of conditions, so a stored filter costs a bounded
// amount of work per event.
package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on a filter. They keep matching cheap and explanations short.
const (
	// MaxBytes bounds the filter's JSON text.
	MaxBytes = 4 << 10
	// MaxDepth bounds the nesting of $and, $or and $not.
	MaxDepth = 5
	// MaxConditions bounds the number of comparisons in a filter.
	MaxConditions = 32
	// MaxPathSegments bounds a dotted path.
	MaxPathSegments = 16
	// MaxPathBytes bounds a dotted path's text.
	MaxPathBytes = 256
	// MaxList bounds the values of $in and $nin.
	MaxList = 100
	// MaxString bounds a string operand.
	MaxString = 1 << 10
)

// Roots are the members of the event envelope a path may start with.
var Roots = []string{"id", "event", "timestamp", "account_id", "data"}

// Error is a filter that cannot be used: Path locates the problem inside
// the filter (a dotted field path, an operator, "$or.1" for the second
// member of an $or; empty for the filter as a whole) and Reason says why.
type Error struct {
	Path   string
	Reason string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

func errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// Filter is a parsed filter, safe for concurrent use.
type Filter struct {
	root node
}

// kind is the JSON type of a value.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

// scalar is an operand: a JSON null, boolean, number or string.
type scalar struct {
	k   kind
	b   bool
	n   float64
	s   string
	raw string // the operand as written, for explanations
}

func (v scalar) String() string { return v.raw }

type op uint8

const (
	opEq op = iota
	opNe
	opIn
	opNin
	opGt
	opGte
	opLt
	opLte
	opExists
	opPrefix
)

var opNames = map[string]op{
	"$eq": opEq, "$ne": opNe, "$in": opIn, "$nin": opNin, "$gt": opGt, "$gte": opGte,
	"$lt": opLt, "$lte": opLte, "$exists": opExists, "$prefix": opPrefix,
}

func (o op) String() string {
	for name, v := range opNames {
		if v == o {
			return name
		}
	}
	return "?"
}

// node is a compiled condition.
type node interface {
	match(d *Doc) bool
	explain(d *Doc, depth int, out []string) ([]string, bool)
}

// and matches when every member matches (an empty and matches all).
type and []node

// or matches when some member matches.
type or []node

// not matches when its member does not.
type not struct{ n node }

// cond compares the values at a path with an operand.
type cond struct {
	path  string
	segs  []string
	op    op
	arg   scalar
	list  []scalar
	exist bool
}

// Parse parses and validates a filter. JSON null (or nothing) is no
// filter: Parse returns nil, nil. Any other error is an *Error.
func Parse(raw []byte) (*Filter, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if len(raw) > MaxBytes {
		return nil, errorf("", "the filter is %d bytes; the limit is %d", len(raw), MaxBytes)
	}
	if !utf8.Valid(raw) {
		return nil, errorf("", "the filter is not valid UTF-8")
	}
	v, err := decodeOrdered(raw)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(object)
	if !ok {
		return nil, errorf("", "a filter is a JSON object such as {\"data.direction\":\"inbound\"}, not %s", kindOf(v))
	}
	p := &parser{}
	n, err := p.object(obj, "", 0)
	if err != nil {
		return nil, err
	}
	if p.conds == 0 {
		return nil, errorf("", "the filter has no condition; use null to take every event")
	}
	return &Filter{root: n}, nil
}

// MustParse is Parse for filters known to be valid (tests, examples).
func MustParse(s string) *Filter {
	f, err := Parse([]byte(s))
	if err != nil {
		panic(err)
	}
	return f
}

type parser struct{ conds int }

func join(prefix, s string) string {
	if prefix == "" {
		return s
	}
	return prefix + "." + s
}

// object compiles a filter object: its members are ANDed.
func (p *parser) object(obj object, at string, depth int) (node, error) {
	if depth > MaxDepth {
		return nil, errorf(at, "the filter nests $and, $or and $not more than %d deep", MaxDepth)
	}
	out := make(and, 0, len(obj))
	for _, m := range obj {
		switch m.key {
		case "$and", "$or":
			arr, ok := m.val.(array)
			if !ok || len(arr) == 0 {
				return nil, errorf(join(at, m.key), "%s takes a non-empty array of filter objects", m.key)
			}
			members := make([]node, 0, len(arr))
			for i, x := range arr {
				here := join(at, m.key+"."+strconv.Itoa(i))
				sub, ok := x.(object)
				if !ok {
					return nil, errorf(here, "%s members are filter objects, not %s", m.key, kindOf(x))
				}
				n, err := p.object(sub, here, depth+1)
				if err != nil {
					return nil, err
				}
				members = append(members, n)
			}
			if m.key == "$and" {
				out = append(out, and(members))
			} else {
				out = append(out, or(members))
			}
		case "$not":
			sub, ok := m.val.(object)
			if !ok {
				return nil, errorf(join(at, m.key), "$not takes a filter object, not %s", kindOf(m.val))
			}
			n, err := p.object(sub, join(at, m.key), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, not{n})
		default:
			if strings.HasPrefix(m.key, "$") {
				return nil, errorf(join(at, m.key), "unknown operator %s here; a filter's keys are dotted paths or $and, $or, $not", m.key)
			}
			conds, err := p.field(m.key, m.val, at)
			if err != nil {
				return nil, err
			}
			out = append(out, conds...)
		}
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

// field compiles the conditions on one path.
func (p *parser) field(path string, val any, at string) ([]node, error) {
	where := join(at, path)
	segs, err := checkPath(path)
	if err != nil {
		return nil, errorf(where, "%s", err.Error())
	}
	obj, isObj := val.(object)
	if !isObj {
		arg, err := operand(val, where, "")
		if err != nil {
			return nil, err
		}
		p.conds++
		if p.conds > MaxConditions {
			return nil, errorf(where, "the filter has more than %d conditions", MaxConditions)
		}
		return []node{&cond{path: path, segs: segs, op: opEq, arg: arg}}, nil
	}
	if len(obj) == 0 {
		return nil, errorf(where, "an operator object needs at least one operator such as $eq")
	}
	var out []node
	for _, m := range obj {
		here := where + "." + m.key
		o, ok := opNames[m.key]
		if !ok {
			if !strings.HasPrefix(m.key, "$") {
				return nil, errorf(where, "objects are not compared; to reach a nested member write the dotted path %q", path+"."+m.key)
			}
			return nil, errorf(here, "unknown operator; use one of $eq $ne $in $nin $gt $gte $lt $lte $exists $prefix")
		}
		c := &cond{path: path, segs: segs, op: o}
		switch o {
		case opEq, opNe:
			if c.arg, err = operand(m.val, here, m.key); err != nil {
				return nil, err
			}
		case opIn, opNin:
			arr, ok := m.val.(array)
			if !ok || len(arr) == 0 {
				return nil, errorf(here, "%s takes a non-empty array of strings, numbers, booleans or null", m.key)
			}
			if len(arr) > MaxList {
				return nil, errorf(here, "%s lists %d values; the limit is %d", m.key, len(arr), MaxList)
			}
			for i, x := range arr {
				s, err := operand(x, here+"."+strconv.Itoa(i), m.key)
				if err != nil {
					return nil, err
				}
				c.list = append(c.list, s)
			}
		case opGt, opGte, opLt, opLte:
			if c.arg, err = operand(m.val, here, m.key); err != nil {
				return nil, err
			}
			if c.arg.k != kindNumber && c.arg.k != kindString {
				return nil, errorf(here, "%s compares numbers or strings, not %s", m.key, c.arg.k)
			}
		case opExists:
			b, ok := m.val.(bool)
			if !ok {
				return nil, errorf(here, "$exists takes true or false, not %s", kindOf(m.val))
			}
			c.exist = b
		case opPrefix:
			if c.arg, err = operand(m.val, here, m.key); err != nil {
				return nil, err
			}
			if c.arg.k != kindString || c.arg.s == "" {
				return nil, errorf(here, "$prefix takes a non-empty string")
			}
		}
		p.conds++
		if p.conds > MaxConditions {
			return nil, errorf(here, "the filter has more than %d conditions", MaxConditions)
		}
		out = append(out, c)
	}
	return out, nil
}

// checkPath splits a dotted path into segments and checks its root.
func checkPath(path string) ([]string, error) {
	if len(path) > MaxPathBytes {
		return nil, fmt.Errorf("the path is %d bytes; the limit is %d", len(path), MaxPathBytes)
	}
	segs := strings.Split(path, ".")
	if len(segs) > MaxPathSegments {
		return nil, fmt.Errorf("the path has %d segments; the limit is %d", len(segs), MaxPathSegments)
	}
	for _, s := range segs {
		if s == "" {
			return nil, errors.New("a path is dot-separated names with none empty, such as data.from.number")
		}
	}
	ok := false
	for _, r := range Roots {
		if segs[0] == r {
			ok = true
		}
	}
	if !ok {
		return nil, fmt.Errorf("paths start at the envelope: %s (for example data.%s)", strings.Join(Roots, ", "), path)
	}
	if segs[0] != "data" && len(segs) > 1 {
		return nil, fmt.Errorf("%s is a string; only data has members", segs[0])
	}
	return segs, nil
}

// operand turns a decoded value into a scalar.
func operand(v any, at, opName string) (scalar, error) {
	switch x := v.(type) {
	case nil:
		return scalar{k: kindNull, raw: "null"}, nil
	case bool:
		return scalar{k: kindBool, b: x, raw: strconv.FormatBool(x)}, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || math.IsInf(f, 0) {
			return scalar{}, errorf(at, "the number %s is out of range", x)
		}
		return scalar{k: kindNumber, n: f, raw: string(x)}, nil
	case string:
		if len(x) > MaxString {
			return scalar{}, errorf(at, "a string operand is at most %d bytes", MaxString)
		}
		q, _ := json.Marshal(x)
		return scalar{k: kindString, s: x, raw: string(q)}, nil
	}
	if opName == "" {
		if _, ok := v.(array); ok {
			return scalar{}, errorf(at, "arrays are not compared; use {\"$in\": [...]} to match any of several values")
		}
	}
	name := opName
	if name == "" {
		name = "a path"
	}
	return scalar{}, errorf(at, "%s takes a string, number, boolean or null, not %s", name, kindOf(v))
}

// object and array keep a JSON object's members in order, which a map
// would not: explanations and errors follow the filter as written.
type (
	object []member
	member struct {
		key string
		val any
	}
	array []any
)

func kindOf(v any) kind {
	switch v.(type) {
	case nil:
		return kindNull
	case bool:
		return kindBool
	case json.Number:
		return kindNumber
	case string:
		return kindString
	case array:
		return kindArray
	}
	return kindObject
}

// decodeOrdered decodes one JSON value keeping object member order and
// refusing duplicate keys.
func decodeOrdered(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec, "", 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errorf("", "the filter has more than one JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, at string, depth int) (any, error) {
	if depth > 2*MaxDepth+4 {
		return nil, errorf(at, "the filter nests more than %d levels", 2*MaxDepth+4)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, errorf(at, "not valid JSON: %v", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			var obj object
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, errorf(at, "not valid JSON: %v", err)
				}
				k := kt.(string)
				if seen[k] {
					return nil, errorf(join(at, k), "the key appears twice")
				}
				seen[k] = true
				v, err := decodeValue(dec, join(at, k), depth+1)
				if err != nil {
					return nil, err
				}
				obj = append(obj, member{k, v})
			}
			if _, err := dec.Token(); err != nil {
				return nil, errorf(at, "not valid JSON: %v", err)
			}
			return obj, nil
		case '[':
			arr := array{}
			for i := 0; dec.More(); i++ {
				v, err := decodeValue(dec, join(at, strconv.Itoa(i)), depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, errorf(at, "not valid JSON: %v", err)
			}
			return arr, nil
		}
	}
	return tok, nil
}
