package filter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Doc is a decoded event envelope, ready to be matched by any number of
// filters. Decode it once per event.
type Doc struct {
	root map[string]any
}

// Decode decodes an event envelope (a JSON object). Numbers keep their
// text until a comparison needs them.
func Decode(envelope []byte) (*Doc, error) {
	dec := json.NewDecoder(bytes.NewReader(envelope))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode envelope: %w", err)
	}
	return &Doc{root: m}, nil
}

// Match reports whether the event matches. A nil filter matches every
// event.
func (f *Filter) Match(d *Doc) bool {
	if f == nil {
		return true
	}
	return f.root.match(d)
}

// Explain reports whether the event matches and, one line per condition
// and logical operator, why (nested members indented by two spaces).
func (f *Filter) Explain(d *Doc) (bool, []string) {
	if f == nil {
		return true, []string{"no filter: every event of the endpoint's event types matches"}
	}
	out, ok := f.root.explain(d, 0, nil)
	return ok, out
}

func (n and) match(d *Doc) bool {
	for _, c := range n {
		if !c.match(d) {
			return false
		}
	}
	return true
}

func (n or) match(d *Doc) bool {
	for _, c := range n {
		if c.match(d) {
			return true
		}
	}
	return false
}

func (n not) match(d *Doc) bool { return !n.n.match(d) }

func (c *cond) match(d *Doc) bool {
	present, hit := c.eval(d, nil)
	switch c.op {
	case opExists:
		return present == c.exist
	case opNe, opNin:
		return !hit
	}
	return hit
}

// eval walks the values at the path. It reports whether the path leads
// to anything (a null included) and whether some value there satisfies
// the positive form of the operator ($eq for $ne, $in for $nin). seen,
// if not nil, collects the values visited, for explanations.
func (c *cond) eval(d *Doc, seen *[]any) (present, hit bool) {
	var v any = d.root
	return walk(v, c.segs, func(x any) bool {
		if seen != nil && len(*seen) < 4 {
			*seen = append(*seen, x)
		}
		return c.test(x)
	})
}

// walk follows segs from v. A numeric segment indexes an array; another
// segment applied to an array reaches into each of its objects. The
// values at the end of the path are passed to fn, an array's elements one
// by one; walk stops at the first fn that returns true.
func walk(v any, segs []string, fn func(any) bool) (present, hit bool) {
	for i, s := range segs {
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[s]
			if !ok {
				return false, false
			}
			v = next
		case []any:
			if n, err := strconv.Atoi(s); err == nil && n >= 0 && strconv.Itoa(n) == s {
				if n >= len(x) {
					return false, false
				}
				v = x[n]
				continue
			}
			for _, el := range x {
				p, h := walk(el, segs[i:], fn)
				present = present || p
				if h {
					return true, true
				}
			}
			return present, false
		default:
			return false, false
		}
	}
	if arr, ok := v.([]any); ok {
		for _, el := range arr {
			if _, isArr := el.([]any); isArr {
				continue // nested arrays are not flattened further
			}
			if fn(el) {
				return true, true
			}
		}
		return true, false
	}
	return true, fn(v)
}

// test applies the positive form of the operator to one value.
func (c *cond) test(v any) bool {
	switch c.op {
	case opEq, opNe:
		return equal(v, c.arg)
	case opIn, opNin:
		for _, a := range c.list {
			if equal(v, a) {
				return true
			}
		}
		return false
	case opGt, opGte, opLt, opLte:
		cmp, ok := compare(v, c.arg)
		if !ok {
			return false
		}
		switch c.op {
		case opGt:
			return cmp > 0
		case opGte:
			return cmp >= 0
		case opLt:
			return cmp < 0
		}
		return cmp <= 0
	case opPrefix:
		s, ok := v.(string)
		return ok && strings.HasPrefix(s, c.arg.s)
	case opExists:
		return true
	}
	return false
}

// equal compares a value with an operand: same JSON type and same value;
// numbers by value (30 equals 30.0), never a string with a number.
func equal(v any, a scalar) bool {
	switch x := v.(type) {
	case nil:
		return a.k == kindNull
	case bool:
		return a.k == kindBool && x == a.b
	case string:
		return a.k == kindString && x == a.s
	case json.Number:
		if a.k != kindNumber {
			return false
		}
		f, err := strconv.ParseFloat(string(x), 64)
		return err == nil && f == a.n
	}
	return false
}

// compare orders a value against a number or string operand of the same
// type; ok is false for any other pair.
func compare(v any, a scalar) (int, bool) {
	switch x := v.(type) {
	case string:
		if a.k != kindString {
			return 0, false
		}
		return strings.Compare(x, a.s), true
	case json.Number:
		if a.k != kindNumber {
			return 0, false
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return 0, false
		}
		switch {
		case f < a.n:
			return -1, true
		case f > a.n:
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func indent(depth int) string { return strings.Repeat("  ", depth) }

func verdict(ok bool) string {
	if ok {
		return "matches"
	}
	return "does not match"
}

func (n and) explain(d *Doc, depth int, out []string) ([]string, bool) {
	at := len(out)
	out = append(out, "")
	ok := true
	for _, c := range n {
		var r bool
		out, r = c.explain(d, depth+1, out)
		ok = ok && r
	}
	out[at] = indent(depth) + "$and (all of): " + verdict(ok)
	return out, ok
}

func (n or) explain(d *Doc, depth int, out []string) ([]string, bool) {
	at := len(out)
	out = append(out, "")
	ok := false
	for _, c := range n {
		var r bool
		out, r = c.explain(d, depth+1, out)
		ok = ok || r
	}
	out[at] = indent(depth) + "$or (any of): " + verdict(ok)
	return out, ok
}

func (n not) explain(d *Doc, depth int, out []string) ([]string, bool) {
	at := len(out)
	out = append(out, "")
	out, r := n.n.explain(d, depth+1, out)
	out[at] = indent(depth) + "$not: " + verdict(!r)
	return out, !r
}

func (c *cond) explain(d *Doc, depth int, out []string) ([]string, bool) {
	var seen []any
	present, _ := c.eval(d, &seen)
	ok := c.match(d)
	var what string
	switch {
	case !present:
		what = c.path + " is missing"
	case len(seen) == 0:
		what = c.path + " is an empty array"
	default:
		vals := make([]string, 0, len(seen))
		for _, v := range seen {
			vals = append(vals, show(v))
		}
		what = c.path + " is " + strings.Join(vals, ", ")
		if len(seen) > 1 {
			what = c.path + " has " + strings.Join(vals, ", ")
		}
	}
	return append(out, fmt.Sprintf("%s%s %s: %s (%s)", indent(depth), c.path, c.describe(), verdict(ok), what)), ok
}

// describe writes the operator and its operand as in the filter.
func (c *cond) describe() string {
	switch c.op {
	case opExists:
		return "$exists " + strconv.FormatBool(c.exist)
	case opIn, opNin:
		parts := make([]string, len(c.list))
		for i, a := range c.list {
			parts[i] = a.raw
		}
		return c.op.String() + " [" + strings.Join(parts, ", ") + "]"
	}
	return c.op.String() + " " + c.arg.raw
}

// show writes a value of the envelope briefly, with its type visible.
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return string(x)
	case string:
		if len(x) > 60 {
			x = x[:60] + "…"
		}
		q, _ := json.Marshal(x)
		return string(q)
	case []any:
		return "an array"
	}
	return "an object"
}
