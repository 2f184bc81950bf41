package bench

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// clockTicks is Linux's USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat. It is 100 on every Linux architecture Go supports
// (getconf CLK_TCK); reading it would need cgo.
const clockTicks = 100

// ProcSample is one reading of a process's memory and CPU time.
type ProcSample struct {
	RSS     int64         // VmRSS, bytes
	HWM     int64         // VmHWM: the peak RSS the kernel has seen, bytes
	CPU     time.Duration // utime + stime
	Threads int
}

// ReadProc reads /proc/<pid>/status and /proc/<pid>/stat.
func ReadProc(pid int) (ProcSample, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ProcSample{}, err
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcSample{}, err
	}
	s, err := parseStatus(status)
	if err != nil {
		return ProcSample{}, err
	}
	if s.CPU, err = parseStatCPU(stat); err != nil {
		return ProcSample{}, err
	}
	return s, nil
}

// parseStatus reads VmRSS, VmHWM and Threads from /proc/<pid>/status. A
// zombie has no Vm* lines; they stay zero.
func parseStatus(b []byte) (ProcSample, error) {
	var s ProcSample
	seen := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(key) {
		case "VmRSS":
			dst = &s.RSS
		case "VmHWM":
			dst = &s.HWM
		case "Threads":
			n, err := strconv.Atoi(string(bytes.TrimSpace(val)))
			if err != nil {
				return s, fmt.Errorf("status: Threads: %w", err)
			}
			s.Threads = n
			seen = true
			continue
		default:
			continue
		}
		f := bytes.Fields(val) // "12345 kB"
		if len(f) != 2 || string(f[1]) != "kB" {
			return s, fmt.Errorf("status: %s: unexpected value %q", key, val)
		}
		n, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return s, fmt.Errorf("status: %s: %w", key, err)
		}
		*dst = n << 10
		seen = true
	}
	if !seen {
		return s, errors.New("status: no VmRSS, VmHWM or Threads line")
	}
	return s, nil
}

// parseStatCPU returns utime + stime from /proc/<pid>/stat.
func parseStatCPU(b []byte) (time.Duration, error) {
	return sumStatFields(b, 14, 15)
}

// sumStatFields adds up the given (1-based) fields of /proc/<pid>/stat, in
// clock ticks, as a duration. The command name (field 2) is in parentheses
// and may hold spaces and parentheses itself, so fields are counted after
// the last ')'.
func sumStatFields(b []byte, fields ...int) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("stat: no ')' after the command name")
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3 (state)
	var ticks int64
	for _, field := range fields {
		k := field - 3
		if k < 0 || k >= len(f) {
			return 0, fmt.Errorf("stat: %d fields after the command name, want > %d", len(f), k)
		}
		n, err := strconv.ParseInt(string(f[k]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: field %d: %w", k+3, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// Sampler reads a process's /proc files every interval and keeps the peak
// RSS and the latest CPU time, so they survive the process's exit.
type Sampler struct {
	pid      int
	interval time.Duration

	mu      sync.Mutex
	last    ProcSample
	peakRSS int64
	samples int

	stop chan struct{}
	done chan struct{}
}

// StartSampler starts sampling pid every interval (250 ms if zero) until
// Stop.
func StartSampler(pid int, interval time.Duration) *Sampler {
	s := &Sampler{pid: pid, interval: cmp.Or(interval, 250*time.Millisecond),
		stop: make(chan struct{}), done: make(chan struct{})}
	s.Sample()
	go s.loop()
	return s
}

func (s *Sampler) loop() {
	defer close(s.done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.Sample()
		}
	}
}

// Sample reads the process now; callers use it right before stopping the
// process, to catch the last CPU time and high-water mark.
func (s *Sampler) Sample() {
	p, err := ReadProc(s.pid)
	if err != nil {
		return // gone: keep what we had
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.HWM == 0 && p.RSS == 0 { // a zombie reports no memory
		p.HWM, p.RSS = s.last.HWM, s.last.RSS
	}
	s.last = p
	s.peakRSS = max(s.peakRSS, p.RSS, p.HWM)
	s.samples++
}

// Last returns the latest reading.
func (s *Sampler) Last() ProcSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// PeakRSS returns the largest of every VmRSS and VmHWM seen.
func (s *Sampler) PeakRSS() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peakRSS
}

// Stop ends sampling. It is safe to call more than once.
func (s *Sampler) Stop() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

// selfCPU returns this process's CPU time so far.
func selfCPU() time.Duration {
	p, err := ReadProc(os.Getpid())
	if err != nil {
		return 0
	}
	return p.CPU
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// parseMachineBusy returns the CPU time all CPUs spent busy (user, nice,
// system, irq, softirq, steal) from the first line of /proc/stat.
func parseMachineBusy(b []byte) (time.Duration, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 9 || string(f[0]) != "cpu" {
		return 0, errors.New("/proc/stat: no cpu line")
	}
	var ticks int64
	for _, k := range []int{1, 2, 3, 6, 7, 8} { // user nice system (idle iowait) irq softirq steal
		n, err := strconv.ParseInt(string(f[k]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: field %d: %w", k, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// machineBusy returns the busy CPU time of the whole machine so far, or 0.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	d, err := parseMachineBusy(b)
	if err != nil {
		return 0
	}
	return d
}

// commandCPU returns the CPU time of every process whose command name is
// comm, with that of their exited children (cutime, cstime): PostgreSQL's
// postmaster reaps the backends, so "postgres" covers the server's work
// even across short-lived connections.
func commandCPU(comm string) time.Duration {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	want := []byte("(" + comm + ")")
	var total time.Duration
	for _, d := range dirs {
		if d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil || !bytes.Contains(b, want) {
			continue
		}
		if i := bytes.IndexByte(b, '('); i < 0 || !bytes.HasPrefix(b[i:], want) {
			continue
		}
		if cpu, err := sumStatFields(b, 14, 15, 16, 17); err == nil {
			total += cpu
		}
	}
	return total
}
