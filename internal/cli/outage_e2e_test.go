package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/config"
)

// producer submits events through the API with plain HTTP, so that it sees
// every status and header, and retries each event on 503 with the same
// idempotency key until it is accepted: a client that retries on 503 must
// lose nothing.
type producer struct {
	t         *testing.T
	url       string
	accountID string
	http      *http.Client

	mu        sync.Mutex
	accepted  map[string]string // idempotency key → event id
	statuses  map[int]int       // status → answers
	unshaped  []string          // error answers without the JSON error shape
	noRetry   int               // 503s without a Retry-After in seconds
	slowest   time.Duration     // the longest answer
	stop      chan struct{}
	done      chan struct{}
	firstDown chan struct{} // closed at the first 503
	downOnce  sync.Once
}

func newProducer(t *testing.T, url, accountID string) *producer {
	return &producer{t: t, url: url, accountID: accountID, http: &http.Client{Timeout: 60 * time.Second},
		accepted: map[string]string{}, statuses: map[int]int{},
		stop: make(chan struct{}), done: make(chan struct{}), firstDown: make(chan struct{})}
}

// submit makes one POST /v1/events with key and returns the status and,
// when accepted, the event id.
func (p *producer) submit(key string) (int, string) {
	body, _ := json.Marshal(map[string]any{"account_id": p.accountID, "event": "sms.received", "data": example("sms.received")})
	req, _ := http.NewRequest(http.MethodPost, p.url+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	start := time.Now()
	resp, err := p.http.Do(req)
	took := time.Since(start)
	if err != nil {
		p.t.Errorf("POST /v1/events: %v", err)
		return 0, ""
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.statuses[resp.StatusCode]++
	p.slowest = max(p.slowest, took)
	if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK {
		var res struct{ ID string }
		if err := json.Unmarshal(data, &res); err != nil || res.ID == "" {
			p.t.Errorf("POST /v1/events %d: body %s", resp.StatusCode, data)
		}
		return resp.StatusCode, res.ID
	}
	var eb struct {
		Error struct{ Code, Message string }
	}
	if json.Unmarshal(data, &eb) != nil || eb.Error.Code == "" || eb.Error.Message == "" {
		p.unshaped = append(p.unshaped, fmt.Sprintf("%d %s", resp.StatusCode, data))
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || n < 1 || eb.Error.Code != "unavailable" {
			p.noRetry++
		}
		p.downOnce.Do(func() { close(p.firstDown) })
	}
	return resp.StatusCode, ""
}

// run submits events one after another until stop is called; each is
// retried on 503 until accepted. Other statuses fail the test.
func (p *producer) run() {
	go func() {
		defer close(p.done)
		for i := 0; ; i++ {
			key := fmt.Sprintf("outage-%d", i)
			for {
				status, id := p.submit(key)
				if id != "" {
					p.mu.Lock()
					p.accepted[key] = id
					p.mu.Unlock()
					break
				}
				if status != http.StatusServiceUnavailable {
					p.t.Errorf("POST /v1/events answered %d, want 202 or 503", status)
					return
				}
				time.Sleep(20 * time.Millisecond) // a real client waits Retry-After; a test need not
			}
			select {
			case <-p.stop:
				return
			default:
			}
		}
	}()
}

// finish stops the producer after the event under way is accepted, and
// checks every error answer it got.
func (p *producer) finish() map[string]string {
	p.t.Helper()
	close(p.stop)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.t.Fatal("the producer did not get its last event accepted within 60 s")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.statuses[http.StatusInternalServerError] > 0 {
		p.t.Errorf("%d answers were 500; an outage must answer 503", p.statuses[http.StatusInternalServerError])
	}
	if len(p.unshaped) > 0 {
		p.t.Errorf("%d error answers lack the JSON error shape, e.g. %s", len(p.unshaped), p.unshaped[0])
	}
	if p.noRetry > 0 {
		p.t.Errorf("%d answers 503 lacked code unavailable or Retry-After in seconds", p.noRetry)
	}
	p.t.Logf("producer: statuses %v, %d events accepted, slowest answer %v", p.statuses, len(p.accepted), p.slowest)
	return p.accepted
}

// readyz returns the status of GET /readyz and how long it took.
func readyz(t *testing.T, url string) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
		t.Errorf("GET /readyz 503 without Retry-After")
	}
	return resp.StatusCode, took
}

// waitReady polls /readyz until it answers want; every answer must come
// within bound.
func waitReady(t *testing.T, url string, want int, within, bound time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		status, took := readyz(t, url)
		if took > bound {
			t.Errorf("GET /readyz took %v, want at most %v", took, bound)
		}
		if status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /readyz = %d after %v, want %d", status, within, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitDelivered waits until the receiver got every accepted event, and
// returns how many requests arrived beyond one per event.
func waitDelivered(t *testing.T, rcv *receiver, accepted map[string]string) int {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		missing := 0
		for _, id := range accepted {
			if rcv.countFor(id) == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d accepted events were never delivered", missing, len(accepted))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return rcv.count() - len(accepted)
}

// mountTmpfs mounts a tmpfs of size bytes at a new directory and unmounts
// it when the test ends; it skips the test where mounting is not allowed.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root or CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// filler keeps a filesystem full, as another process writing to the same
// disk would: whatever space a rollback or a truncated log gives back is
// taken again at once, until free is called.
type filler struct {
	path string
	stop chan struct{}
	done chan struct{}
	full chan struct{} // closed once the disk was first full
}

func fill(t *testing.T, dir string) *filler {
	t.Helper()
	f := &filler{path: filepath.Join(dir, "filler"), stop: make(chan struct{}), done: make(chan struct{}), full: make(chan struct{})}
	file, err := os.Create(f.path)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(f.done)
		defer file.Close()
		buf := make([]byte, 64<<10)
		first := true
		for {
			// Big writes while they fit, then small ones for the last
			// partial blocks.
			for size := len(buf); size >= 512; size /= 8 {
				for {
					if _, err := file.Write(buf[:size]); err != nil {
						break
					}
				}
			}
			if first {
				close(f.full)
				first = false
			}
			select {
			case <-f.stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	select {
	case <-f.full:
	case <-time.After(30 * time.Second):
		t.Fatal("the disk did not fill within 30 s")
	}
	return f
}

// free stops filling and deletes the filler.
func (f *filler) free(t *testing.T) {
	t.Helper()
	close(f.stop)
	<-f.done
	if err := os.Remove(f.path); err != nil {
		t.Fatal(err)
	}
}

// SQLite on a full disk: POST /v1/events answers 503 unavailable with
// Retry-After (never 500), /readyz answers 503 quickly; once space is
// freed both recover without a restart, and every event answered 202 is
// delivered.
func TestOutageSQLiteDiskFull(t *testing.T) {
	dir := mountTmpfs(t, 16<<20)
	b := start(t, func(c *config.Config) { c.DB = "sqlite:" + filepath.Join(dir, "hookd.db") })
	rcv := newReceiver(t, nil)
	acc, c := b.account()
	b.endpoint(c, rcv, client.CreateEndpointParams{})
	waitReady(t, b.url, http.StatusOK, 5*time.Second, 2*time.Second)

	p := newProducer(t, b.url, acc.ID)
	p.run()
	disk := fill(t, dir)
	select {
	case <-p.firstDown:
	case <-time.After(30 * time.Second):
		disk.free(t)
		p.finish()
		t.Fatal("no 503 within 30 s of filling the disk")
	}
	waitReady(t, b.url, http.StatusServiceUnavailable, 10*time.Second, 2*time.Second)

	disk.free(t)
	waitReady(t, b.url, http.StatusOK, 20*time.Second, 2*time.Second)
	accepted := p.finish()
	if p.statuses[http.StatusServiceUnavailable] == 0 {
		t.Fatal("no 503 while the disk was full")
	}
	extra := waitDelivered(t, rcv, accepted)
	t.Logf("%d events delivered, %d duplicate deliveries", len(accepted), extra)
}
