package bench

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPayloadSizes(t *testing.T) {
	t.Parallel()
	p, err := newPayloads(2048, 400)
	if err != nil {
		t.Fatal(err)
	}
	if p.callBody != 2048 {
		t.Errorf("call body = %d bytes, want 2048", p.callBody)
	}
	// A plain SMS cannot be smaller than about 400 bytes.
	if p.smsBody < 380 || p.smsBody > 420 {
		t.Errorf("SMS body = %d bytes, want about 400", p.smsBody)
	}
	p, err = newPayloads(4000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if p.callBody != 4000 || p.smsBody != 1000 {
		t.Errorf("bodies = %d, %d bytes, want 4000, 1000", p.callBody, p.smsBody)
	}
	for i, want := range []string{typeCall, typeSMS, typeCall} {
		if got, _ := p.eventAt(i); got != want {
			t.Errorf("eventAt(%d) = %s, want %s", i, got, want)
		}
	}
}

func TestHangIndexes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n, k, accounts int
		want           []int
	}{
		{50, 5, 10, []int{0, 11, 22, 33, 44}},
		{50, 0, 10, nil},
		{10, 1, 10, []int{0}},
		{4, 4, 2, []int{0, 1, 2, 3}},
	} {
		got := hangIndexes(tc.n, tc.k)
		var keys []int
		for i := range got {
			keys = append(keys, i)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, tc.want) {
			t.Errorf("hangIndexes(%d, %d) = %v, want %v", tc.n, tc.k, keys, tc.want)
		}
		accounts := map[int]bool{}
		for _, i := range keys {
			accounts[i%tc.accounts] = true
		}
		if len(keys) <= tc.accounts && len(accounts) != len(keys) {
			t.Errorf("hangIndexes(%d, %d) = %v: %d accounts, want one each", tc.n, tc.k, keys, len(accounts))
		}
	}
}

func TestEndpointIndex(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]int{"/e/12": 12, "/hang/3": 3, "/": -1, "/e/x": -1, "/e": -1} {
		if got := endpointIndex(path); got != want {
			t.Errorf("endpointIndex(%q) = %d, want %d", path, got, want)
		}
	}
	keep := counts(map[int]bool{3: true})
	for path, want := range map[string]bool{"/e/1": true, "/e/3": false, "/hang/4": false, "/stats": false} {
		if got := keep(path); got != want {
			t.Errorf("counts({3})(%q) = %t, want %t", path, got, want)
		}
	}
}

func TestParseRunFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want func(*runConfig) bool
		err  string
	}{
		{"MaxDefaults", []string{"--scenario", "max"}, func(c *runConfig) bool {
			return c.Events == 100_000 && c.Accounts == 10 && c.Endpoints == 50 && slices.Equal(c.Nodes, []int{1}) && c.DB == ""
		}, ""},
		{"Steady", []string{"--scenario", "steady", "--rate", "500", "--duration", "10s"}, func(c *runConfig) bool {
			return c.Events == 5000 && c.Accounts == 50
		}, ""},
		{"Backlog", []string{"--scenario=backlog"}, func(c *runConfig) bool { return c.Events == 1_000_000 }, ""},
		{"PG", []string{"--scenario", "pg"}, func(c *runConfig) bool {
			return c.DB == defaultPostgresURL && slices.Equal(c.Nodes, []int{1, 2})
		}, ""},
		{"PGNodes", []string{"--scenario", "pg", "--nodes", "2"}, func(c *runConfig) bool { return slices.Equal(c.Nodes, []int{2}) }, ""},
		{"HookdArgs", []string{"--scenario", "max", "--hookd-arg=--log-level=warn", "--hookd-arg", "--retry-base=1s"}, func(c *runConfig) bool {
			return slices.Equal(c.HookdArgs, []string{"--log-level=warn", "--retry-base=1s"})
		}, ""},
		{"Soak", []string{"--scenario", "soak", "--rate", "100", "--duration", "1m", "--hookd-arg=--disable-after=2"}, func(c *runConfig) bool {
			// --disable-after=0 keeps hostile endpoints enabled; a later
			// --hookd-arg still wins.
			return c.Events == 6000 && c.Hostile == 0.1 && c.SampleEvery == 30*time.Second &&
				slices.Equal(c.HookdArgs, []string{"--disable-after=0", "--disable-after=2"})
		}, ""},
		{"SoakHostile", []string{"--scenario", "soak", "--hostile", "0.25"}, func(c *runConfig) bool { return c.Hostile == 0.25 }, ""},
		{"HostileOutsideSoak", []string{"--scenario", "max", "--hostile", "0.1"}, nil, "soak"},
		{"HostileAll", []string{"--scenario", "soak", "--hostile", "1"}, nil, "--hostile"},
		{"SoakNoSamples", []string{"--scenario", "soak", "--sample-every", "0s"}, nil, "--sample-every"},
		{"NoScenario", nil, nil, "--scenario"},
		{"UnknownScenario", []string{"--scenario", "fast"}, nil, "--scenario"},
		{"SQLiteNodes", []string{"--scenario", "max", "--nodes", "2"}, nil, "PostgreSQL"},
		{"BadNodes", []string{"--scenario", "pg", "--nodes", "x"}, nil, "--nodes"},
		{"BadDB", []string{"--scenario", "max", "--db", "mysql://x"}, nil, "postgres"},
		{"MoreAccounts", []string{"--scenario", "max", "--accounts", "60"}, nil, "accounts"},
		{"Extra", []string{"--scenario", "max", "extra"}, nil, "unexpected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := parseRunFlags(tc.args, io.Discard)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parseRunFlags(%q) = %v, want an error containing %q", tc.args, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseRunFlags(%q) = %v", tc.args, err)
			}
			if !tc.want(c) {
				t.Errorf("parseRunFlags(%q) = %+v, not what the test wants", tc.args, c)
			}
		})
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -12345: "-12,345"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestChecks(t *testing.T) {
	t.Parallel()
	r := &Result{
		Ceiling: &CeilingResult{RequestsPerS: 20000},
		Phases: []PhaseResult{
			{Name: "max", DeliveriesPerS: 9000, PctOfCeiling: 45, CPUMsPerDelivery: 0.1},
			{Name: "steady", Latency: Summary{P99: 30}},
		},
	}
	r.setRatio("healthy_throughput_kept", 0.95)
	got := map[string]bool{}
	for _, c := range checks(r) {
		got[c.Target] = c.Pass
	}
	want := map[string]bool{
		"max: ≥ 8,000 deliveries/s":                                    true,
		"max: ≥ 60 % of the raw ceiling":                               false,
		"max: ≤ 0.15 ms hookd CPU per delivery":                        true,
		"steady: p99 accept→arrival < 25 ms":                           false,
		"isolation: healthy endpoints keep ≥ 90 % of their throughput": true,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("check %q = %t (present %t), want %t", k, g, ok, v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("checks = %v, want %d of them", got, len(want))
	}
}
