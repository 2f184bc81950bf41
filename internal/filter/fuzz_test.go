package filter_test

import (
	"testing"

	"github.com/hookd/hookd/internal/filter"
)

// FuzzFilter checks that Parse never panics, that what it refuses is an
// *filter.Error, and that a parsed filter matches and explains any
// envelope without panicking, Explain agreeing with Match.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		`{"data.direction":"inbound","data.duration_seconds":{"$gte":30}}`,
		`{"$or":[{"data.status":"missed"},{"data.tags":{"$in":["vip"]}}]}`,
		`{"$not":{"data.transcript.speaker":{"$prefix":"c"}}}`,
		`{"data.tags.0":{"$exists":false},"event":{"$nin":["a",1,null,true]}}`,
		`{"data.a":{"$lt":"z","$gt":-1e3}}`,
		`null`, `[]`, `{"$and":[{}]}`,
	} {
		f.Add([]byte(s), []byte(callEvent))
	}
	f.Fuzz(func(t *testing.T, raw, envelope []byte) {
		flt, err := filter.Parse(raw)
		if err != nil {
			if _, ok := err.(*filter.Error); !ok {
				t.Fatalf("Parse(%q) error %T %v, want *filter.Error", raw, err, err)
			}
			return
		}
		d, err := filter.Decode(envelope)
		if err != nil {
			return
		}
		m := flt.Match(d)
		if e, _ := flt.Explain(d); e != m {
			t.Fatalf("Parse(%q): Explain %v, Match %v", raw, e, m)
		}
	})
}
