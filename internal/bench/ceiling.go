package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/webhook"
)

// CeilingResult is the raw ceiling: what a minimal client gets out of the
// same receiver, with the same bodies, signing, TLS and concurrency as
// hookd, and no storage.
type CeilingResult struct {
	Seconds     float64 `json:"seconds"`
	Concurrency int     `json:"concurrency"`
	Requests    int64   `json:"requests"`
	Errors      int64   `json:"errors"`
	// RequestsPerS is measured like hookd's deliveries/s: requests that
	// arrived over the span from the first arrival to the last.
	RequestsPerS  float64 `json:"requests_per_sec"`
	MeanBodyBytes float64 `json:"mean_body_bytes"`
	// Latency is body creation → arrival at the receiver.
	Latency Summary `json:"latency"`
	// CPU seconds spent by the client (this process) and the receiver.
	ClientCPUSeconds   float64 `json:"client_cpu_seconds"`
	ReceiverCPUSeconds float64 `json:"receiver_cpu_seconds"`
	OtherCPUSeconds    float64 `json:"other_cpu_seconds"`
}

// ceilingTransport is hookd's delivery transport (internal/delivery
// NewSender) without the SSRF guard: HTTP/1.1 only, keep-alive, TLS 1.2+,
// no compression, the same pool sizes.
func ceilingTransport(roots *x509.CertPool, timeout time.Duration) *http.Transport {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		TLSNextProto:          map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
}

// measureCeiling runs concurrency loops that each build an envelope (a
// fresh id and timestamp, the payloads' data, alternating types), sign it
// with one of endpoints signers like hookd does, POST it to /e/<n> and
// read the answer, for d.
func (r *runner) measureCeiling(ctx context.Context, d time.Duration, concurrency, endpoints int) (*CeilingResult, error) {
	if err := r.rcv.reset(ctx); err != nil {
		return nil, err
	}
	signers := make([]*webhook.Signer, endpoints)
	accounts := make([]string, endpoints)
	for i := range signers {
		secret, err := webhook.NewSecret()
		if err != nil {
			return nil, err
		}
		if signers[i], err = webhook.NewSigner(secret); err != nil {
			return nil, err
		}
		accounts[i] = hook.NewID(hook.PrefixAccount)
	}
	hc := &http.Client{
		Transport:     ceilingTransport(r.roots, 5*time.Second),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer hc.CloseIdleConnections()

	rcvStart, _ := ReadProc(r.rcv.pid())
	selfStart, machineStart := selfCPU(), machineBusy()
	var (
		next, done, failed atomic.Int64
		firstErr           atomic.Value
		wg                 sync.WaitGroup
	)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	deadline := start.Add(d)
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && runCtx.Err() == nil {
				i := int(next.Add(1) - 1)
				ep := i % endpoints
				event, data := r.payloads.eventAt(i / endpoints)
				if err := ceilingPost(runCtx, hc, r.rcv.url("/e/"+strconv.Itoa(ep)), signers[ep], event, accounts[ep], data); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				done.Add(1)
			}
		}()
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	go func() { wg.Wait(); cancel() }()
	last := int64(0)
progress:
	for {
		select {
		case <-runCtx.Done():
			break progress
		case <-tick.C:
			n := done.Load()
			r.printf("[ceiling] %4.0fs  requests %s (%s/s)  errors %d\n",
				time.Since(start).Seconds(), count(n), count(n-last), failed.Load())
			last = n
		}
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := r.rcv.stats(ctx)
	if err != nil {
		return nil, err
	}
	rcvEnd, _ := ReadProc(r.rcv.pid())
	selfEnd, machineEnd := selfCPU(), machineBusy()
	res := &CeilingResult{
		Seconds:            round(elapsed, 3),
		Concurrency:        concurrency,
		Requests:           done.Load(),
		Errors:             failed.Load(),
		RequestsPerS:       round(rate(st.Unique(), st.FirstArrival, st.LastArrival), 1),
		Latency:            st.Latency.Summary(),
		ClientCPUSeconds:   round((selfEnd - selfStart).Seconds(), 2),
		ReceiverCPUSeconds: round((rcvEnd.CPU - rcvStart.CPU).Seconds(), 2),
		OtherCPUSeconds:    round(max(0, (machineEnd-machineStart)-(selfEnd-selfStart)-(rcvEnd.CPU-rcvStart.CPU)).Seconds(), 2),
	}
	if st.Deliveries > 0 {
		res.MeanBodyBytes = round(float64(st.BodyBytes)/float64(st.Deliveries), 0)
	}
	if res.Requests == 0 {
		return nil, fmt.Errorf("raw ceiling: no request succeeded: %v", firstErr.Load())
	}
	if e := firstErr.Load(); e != nil && res.Errors*100 > res.Requests {
		return nil, fmt.Errorf("raw ceiling: %d of %d requests failed, first: %v", res.Errors, res.Requests+res.Errors, e)
	}
	return res, nil
}

// ceilingPost makes one request the way hookd's sender does.
func ceilingPost(ctx context.Context, hc *http.Client, url string, s *webhook.Signer, event, accountID string, data []byte) error {
	now := time.Now()
	msgID := hook.NewID(hook.PrefixEvent)
	body := hook.EncodeEnvelope(msgID, event, now, accountID, data)
	ts := now.Unix()
	sig := s.Sign(msgID, ts, body)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	h := req.Header
	h["Content-Type"] = []string{"application/json"}
	h["User-Agent"] = []string{"hookd-bench"}
	h[webhook.HeaderID] = []string{msgID}
	h[webhook.HeaderTimestamp] = []string{strconv.FormatInt(ts, 10)}
	h[webhook.HeaderSignature] = []string{sig}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}
