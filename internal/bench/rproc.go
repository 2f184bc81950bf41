package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"time"
)

var receiverReady = regexp.MustCompile(regexp.QuoteMeta(receiverLinePrefix) + ` https=(\S+) control=(\S+)`)

// receiverProc is the receiver process and its control client.
type receiverProc struct {
	*child
	addr     string // host:port of the HTTPS server
	control  string // http://host:port
	certFile string
	http     *http.Client
}

// startReceiver runs "hookd-bench receive" through self.
func startReceiver(ctx context.Context, self func(args ...string) *exec.Cmd, dir string) (*receiverProc, error) {
	certFile := filepath.Join(dir, "receiver-cert.pem")
	cmd := self("receive", "--cert-file", certFile)
	c, err := startChild("receiver", cmd, filepath.Join(dir, "receiver.log"))
	if err != nil {
		return nil, err
	}
	m, err := c.waitLine(ctx, receiverReady, 30*time.Second)
	if err != nil {
		c.stop(time.Second)
		return nil, err
	}
	return &receiverProc{child: c, addr: m[1], control: "http://" + m[2], certFile: certFile,
		http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// url is the receiver's URL for path.
func (r *receiverProc) url(path string) string { return "https://" + r.addr + path }

// stats fetches GET /stats.
func (r *receiverProc) stats(ctx context.Context) (*Stats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.control+"/stats", nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("receiver stats: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("receiver stats: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("receiver stats: HTTP %d", resp.StatusCode)
	}
	return ParseStats(b)
}

// reset calls POST /reset.
func (r *receiverProc) reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.control+"/reset", nil)
	if err != nil {
		return err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return fmt.Errorf("receiver reset: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("receiver reset: HTTP %d", resp.StatusCode)
	}
	return nil
}
