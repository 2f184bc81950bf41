package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	got, err := parseStatus(readTestdata(t, "status"))
	if err != nil {
		t.Fatalf("parseStatus: %v", err)
	}
	want := ProcSample{RSS: 118372 << 10, HWM: 121184 << 10, Threads: 14}
	if got != want {
		t.Errorf("parseStatus = %+v, want %+v", got, want)
	}

	got, err = parseStatus(readTestdata(t, "zombie-status"))
	if err != nil {
		t.Fatalf("parseStatus(zombie): %v", err)
	}
	if want := (ProcSample{Threads: 1}); got != want {
		t.Errorf("parseStatus(zombie) = %+v, want %+v", got, want)
	}
}

func TestParseStatusErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in string }{
		{"Empty", ""},
		{"NoKnownLine", "Name:\thookd\nState:\tS\n"},
		{"NoUnit", "VmRSS:\t123\n"},
		{"NotANumber", "VmHWM:\t12x kB\n"},
		{"BadThreads", "Threads:\tmany\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, err := parseStatus([]byte(tc.in)); err == nil {
				t.Errorf("parseStatus(%q) = %+v, want an error", tc.in, got)
			}
		})
	}
}

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	// utime 5234 + stime 1617 ticks at 100 Hz; the command name holds a
	// space and parentheses.
	got, err := parseStatCPU(readTestdata(t, "stat"))
	if err != nil {
		t.Fatalf("parseStatCPU: %v", err)
	}
	if want := 68510 * time.Millisecond; got != want {
		t.Errorf("parseStatCPU = %v, want %v", got, want)
	}
	for _, in := range []string{"", "1 (x S 1 2", "1 (x) S 1 2 3", "1 (x) S 1 1 1 0 -1 4 1 0 0 0 abc 7 0"} {
		if got, err := parseStatCPU([]byte(in)); err == nil {
			t.Errorf("parseStatCPU(%q) = %v, want an error", in, got)
		}
	}
}

func TestParseMachineBusy(t *testing.T) {
	t.Parallel()
	got, err := parseMachineBusy(readTestdata(t, "proc-stat"))
	if err != nil {
		t.Fatalf("parseMachineBusy: %v", err)
	}
	// user 10132 + nice 52 + system 4021 + irq 0 + softirq 311 + steal 7.
	if want := 14523 * time.Second / 100; got != want {
		t.Errorf("parseMachineBusy = %v, want %v", got, want)
	}
	if _, err := parseMachineBusy([]byte("intr 1 2\n")); err == nil {
		t.Error("parseMachineBusy without a cpu line: want an error")
	}
}

func TestSamplerOfChild(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep command:", err)
	}
	s := StartSampler(cmd.Process.Pid, 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	last := s.Last()
	if last.RSS <= 0 || last.HWM < last.RSS || last.Threads < 1 {
		t.Errorf("Last() = %+v, want a positive RSS, HWM ≥ RSS and threads", last)
	}
	cmd.Process.Kill()
	cmd.Wait()
	s.Sample() // the process is gone: the last reading stays
	s.Stop()
	s.Stop()
	if got := s.PeakRSS(); got < last.RSS {
		t.Errorf("PeakRSS() = %d after exit, want ≥ %d", got, last.RSS)
	}
}
