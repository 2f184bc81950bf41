package hook

import (
	"slices"
	"testing"
	"time"
)

// ApplyPatch with the endpoint controls: each is replaced when given, a
// pointer to the zero value removes it, and the same value changes
// nothing (not even updated_at).
func TestApplyPatchControls(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	hs := []Header{{Name: "X-A", Value: "v", Masked: "••••"}}
	base := func() *Endpoint {
		return &Endpoint{ID: "ep_1", Enabled: true, Headers: slices.Clone(hs), Filter: []byte(`{"event":"x"}`), RateLimit: 5, UpdatedAt: t0}
	}
	same, sameFilter, sameRate := slices.Clone(hs), []byte(`{"event":"x"}`), 5
	var noHeaders []Header
	var noFilter []byte
	noRate := 0
	otherFilter := []byte(`{"event":"y"}`)
	tests := []struct {
		name    string
		patch   EndpointPatch
		changed bool
		check   func(e *Endpoint) bool
	}{
		{"same values", EndpointPatch{Headers: &same, Filter: &sameFilter, RateLimit: &sameRate}, false,
			func(e *Endpoint) bool { return e.RateLimit == 5 && e.Filter != nil && len(e.Headers) == 1 }},
		{"remove all", EndpointPatch{Headers: &noHeaders, Filter: &noFilter, RateLimit: &noRate}, true,
			func(e *Endpoint) bool { return e.RateLimit == 0 && e.Filter == nil && e.Headers == nil }},
		{"new filter", EndpointPatch{Filter: &otherFilter}, true,
			func(e *Endpoint) bool { return string(e.Filter) == `{"event":"y"}` && e.RateLimit == 5 }},
		{"nothing given", EndpointPatch{}, false,
			func(e *Endpoint) bool { return e.RateLimit == 5 && len(e.Headers) == 1 }},
	}
	for _, tc := range tests {
		e := base()
		c := ApplyPatch(e, tc.patch, t0.Add(time.Minute), false)
		if c.Changed != tc.changed || !tc.check(e) || c.Changed != !e.UpdatedAt.Equal(t0) {
			t.Errorf("%s: Changed %v, endpoint %+v", tc.name, c.Changed, e)
		}
	}
}
