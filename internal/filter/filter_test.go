package filter_test

import (
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/filter"
)

const callEvent = `{"id":"evt_1","event":"call.received","timestamp":"2026-11-27T12:30:00.000Z","account_id":"acc_1",
"data":{"call_id":"c1","direction":"inbound","from":{"number":"+4930123","name":"Ann"},"to":{"number":"+4930999"},
"duration_seconds":45,"status":"missed","recording":null,"tags":["vip","de"],
"transcript":[{"speaker":"caller","at":"2026-11-27T12:29:00.000Z","text":"hello"},{"speaker":"agent","text":"hi"}]}}`

func doc(t *testing.T, s string) *filter.Doc {
	t.Helper()
	d, err := filter.Decode([]byte(s))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return d
}

func TestMatch(t *testing.T) {
	t.Parallel()
	d := doc(t, callEvent)
	tests := []struct {
		filter string
		want   bool
	}{
		{`{"data.direction":"inbound"}`, true},
		{`{"data.direction":"outbound"}`, false},
		{`{"data.direction":"inbound","data.duration_seconds":{"$gte":30}}`, true},
		{`{"data.duration_seconds":{"$gt":45}}`, false},
		{`{"data.duration_seconds":{"$gte":45,"$lte":45}}`, true},
		{`{"data.duration_seconds":45.0}`, true},
		// Typed: no coercion between strings and numbers.
		{`{"data.duration_seconds":"45"}`, false},
		{`{"data.duration_seconds":{"$gt":"3"}}`, false},
		{`{"data.call_id":{"$lt":5}}`, false},
		// Strings order bytewise: hookd's timestamps order by time.
		{`{"timestamp":{"$gte":"2026-11-27T00:00:00.000Z"}}`, true},
		{`{"timestamp":{"$lt":"2026-11-27T00:00:00.000Z"}}`, false},
		// Arrays: any element.
		{`{"data.tags":"vip"}`, true},
		{`{"data.tags":{"$in":["vip","gold"]}}`, true},
		{`{"data.tags":{"$nin":["vip"]}}`, false},
		{`{"data.tags":{"$ne":"gold"}}`, true},
		{`{"data.tags.0":"vip"}`, true},
		{`{"data.tags.1":"vip"}`, false},
		{`{"data.tags.5":{"$exists":true}}`, false},
		{`{"data.transcript.speaker":"agent"}`, true},
		{`{"data.transcript.1.speaker":"caller"}`, false},
		{`{"data.transcript.at":{"$exists":true}}`, true},
		// Missing paths.
		{`{"data.summary":{"$exists":false}}`, true},
		{`{"data.summary":"x"}`, false},
		{`{"data.summary":{"$ne":"x"}}`, true},
		{`{"data.summary":{"$nin":["x"]}}`, true},
		{`{"data.summary":null}`, false},
		{`{"data.from.number.x":{"$exists":true}}`, false},
		// Null is a value.
		{`{"data.recording":null}`, true},
		{`{"data.recording":{"$exists":true}}`, true},
		{`{"data.from.number":{"$prefix":"+49"}}`, true},
		{`{"data.from.number":{"$prefix":"+1"}}`, false},
		{`{"data.duration_seconds":{"$prefix":"4"}}`, false},
		{`{"event":{"$in":["call.received","sms.received"]}}`, true},
		// Logic.
		{`{"$or":[{"data.status":"missed"},{"data.tags":{"$in":["gold"]}}]}`, true},
		{`{"$or":[{"data.status":"completed"},{"data.tags":{"$in":["gold"]}}]}`, false},
		{`{"$and":[{"data.status":"missed"},{"data.direction":"outbound"}]}`, false},
		{`{"$not":{"data.status":"missed"}}`, false},
		{`{"$not":{"$or":[{"data.status":"completed"},{"data.direction":"outbound"}]}}`, true},
		{`{"data.status":{"$eq":true}}`, false},
	}
	for _, tc := range tests {
		f, err := filter.Parse([]byte(tc.filter))
		if err != nil {
			t.Errorf("Parse(%s): %v", tc.filter, err)
			continue
		}
		if got := f.Match(d); got != tc.want {
			t.Errorf("Parse(%s).Match = %v, want %v", tc.filter, got, tc.want)
		}
		if got, lines := f.Explain(d); got != tc.want || len(lines) == 0 {
			t.Errorf("Parse(%s).Explain = %v %q, want %v", tc.filter, got, lines, tc.want)
		}
	}
}

func TestParseNull(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "null", " null "} {
		f, err := filter.Parse([]byte(s))
		if f != nil || err != nil {
			t.Errorf("Parse(%q) = %v, %v; want nil, nil", s, f, err)
		}
		if !f.Match(doc(t, callEvent)) {
			t.Errorf("nil filter does not match")
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	deep := `{"data.a":1}`
	for range filter.MaxDepth + 1 {
		deep = `{"$not":` + deep + `}`
	}
	many := make([]string, filter.MaxConditions+1)
	for i := range many {
		many[i] = `{"data.a":1}`
	}
	tests := []struct {
		filter, path, reason string
	}{
		{`[]`, "", "JSON object"},
		{`{}`, "", "no condition"},
		{`{"data.a":1`, "", "not valid JSON"},
		{`{"data.a":1} {}`, "", "more than one"},
		{`{"direction":"inbound"}`, "direction", "paths start at the envelope"},
		{`{"data..a":1}`, "data..a", "none empty"},
		{`{"event.x":1}`, "event.x", "only data has members"},
		{`{"data.a":[1,2]}`, "data.a", "use {\"$in\""},
		{`{"data.a":{"b":1}}`, "data.a", "dotted path \"data.a.b\""},
		{`{"data.a":{}}`, "data.a", "at least one operator"},
		{`{"data.a":{"$regex":"x"}}`, "data.a.$regex", "unknown operator"},
		{`{"data.a":{"$gt":true}}`, "data.a.$gt", "numbers or strings"},
		{`{"data.a":{"$gte":null}}`, "data.a.$gte", "numbers or strings"},
		{`{"data.a":{"$in":[]}}`, "data.a.$in", "non-empty array"},
		{`{"data.a":{"$in":"x"}}`, "data.a.$in", "non-empty array"},
		{`{"data.a":{"$in":[{"x":1}]}}`, "data.a.$in.0", "not an object"},
		{`{"data.a":{"$exists":1}}`, "data.a.$exists", "true or false"},
		{`{"data.a":{"$prefix":""}}`, "data.a.$prefix", "non-empty string"},
		{`{"$or":[]}`, "$or", "non-empty array"},
		{`{"$or":[{"data.a":1},"x"]}`, "$or.1", "filter objects"},
		{`{"$or":[{"data.a":1},{"data.b":{"$lt":false}}]}`, "$or.1.data.b.$lt", "numbers or strings"},
		{`{"$not":[{"data.a":1}]}`, "$not", "filter object"},
		{`{"$where":"1"}`, "$where", "unknown operator"},
		{`{"data.a":1,"data.a":2}`, "data.a", "twice"},
		{`{"data.a":1e999}`, "data.a", "out of range"},
		{deep, "", "more than 5 deep"},
		{`{"$and":[` + strings.Join(many, ",") + `]}`, "", "more than 32 conditions"},
		{`{"data.a":"` + strings.Repeat("x", filter.MaxBytes) + `"}`, "", "the limit is 4096"},
		{`{"data.` + strings.Repeat("a.", filter.MaxPathSegments) + `a":1}`, "", "segments"},
	}
	for _, tc := range tests {
		_, err := filter.Parse([]byte(tc.filter))
		fe, ok := err.(*filter.Error)
		if !ok {
			t.Errorf("Parse(%.60s) = %v, want a *filter.Error", tc.filter, err)
			continue
		}
		if tc.path != "" && fe.Path != tc.path {
			t.Errorf("Parse(%.60s) path = %q, want %q (%v)", tc.filter, fe.Path, tc.path, fe)
		}
		if !strings.Contains(fe.Error(), tc.reason) {
			t.Errorf("Parse(%.60s) = %q, want it to say %q", tc.filter, fe.Error(), tc.reason)
		}
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	f := filter.MustParse(`{"data.direction":"inbound","$or":[{"data.duration_seconds":{"$gte":60}},{"data.summary":{"$exists":true}}]}`)
	ok, lines := f.Explain(doc(t, callEvent))
	want := []string{
		"$and (all of): does not match",
		`  data.direction $eq "inbound": matches (data.direction is "inbound")`,
		"  $or (any of): does not match",
		"    data.duration_seconds $gte 60: does not match (data.duration_seconds is 45)",
		"    data.summary $exists true: does not match (data.summary is missing)",
	}
	if ok || strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("Explain = %v\n%s\nwant false\n%s", ok, strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
