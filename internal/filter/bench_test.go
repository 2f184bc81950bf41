package filter_test

import (
	"testing"

	"github.com/hookd/hookd/internal/filter"
)

// BenchmarkFanOutMatch is the filter's share of a fan-out: one envelope
// decoded, then matched by five endpoints' filters, next to the decode
// alone (what an unfiltered fan-out would not even do).
func BenchmarkFanOutMatch(b *testing.B) {
	filters := []*filter.Filter{
		filter.MustParse(`{"data.direction":"inbound"}`),
		filter.MustParse(`{"data.duration_seconds":{"$gte":30}}`),
		filter.MustParse(`{"$or":[{"data.status":"missed"},{"data.tags":{"$in":["vip"]}}]}`),
		filter.MustParse(`{"event":"sms.received","data.from.number":"+4930123"}`),
		filter.MustParse(`{"data.status":"missed","$not":{"data.from.number":{"$prefix":"+1"}}}`),
	}
	body := []byte(callEvent)
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := filter.Decode(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode+5", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d, err := filter.Decode(body)
			if err != nil {
				b.Fatal(err)
			}
			for _, f := range filters {
				f.Match(d)
			}
		}
	})
	d, _ := filter.Decode(body)
	b.Run("match5", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, f := range filters {
				f.Match(d)
			}
		}
	})
}
