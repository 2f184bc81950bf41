package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/hookd/hookd/client"
)

// hookdListening is the line hookd serve prints once it serves the API.
var hookdListening = regexp.MustCompile(`listening on (https?://\S+)`)

// nodeConfig is how to run one hookd serve process.
type nodeConfig struct {
	Name       string // "hookd-1", for logs and messages
	Bin        string
	DataDir    string
	LogDir     string
	AdminToken string
	DB         string // "" for SQLite in DataDir
	Deliver    bool
	CertFile   string // the receiver's certificate, for SSL_CERT_FILE
	// Concurrency is --concurrency; 0 leaves hookd's default.
	Concurrency int
	// Pprof serves /debug/pprof/ on a metrics address of its own.
	Pprof bool
	// Args are extra serve flags (--hookd-arg).
	Args []string
}

// node is a running hookd serve.
type node struct {
	*child
	cfg         nodeConfig
	url         string
	metricsAddr string
	api         *client.Client // admin-token client
}

// startNode runs hookd serve and waits until it answers /readyz.
func startNode(ctx context.Context, cfg nodeConfig, httpc *http.Client) (*node, error) {
	args := []string{"serve",
		"--addr", "127.0.0.1:0",
		"--data-dir", cfg.DataDir,
		"--admin-token", cfg.AdminToken,
		"--allow-private-targets",
		"--deliver=" + strconv.FormatBool(cfg.Deliver),
	}
	if cfg.DB != "" {
		args = append(args, "--db", cfg.DB)
	}
	if cfg.Concurrency > 0 {
		args = append(args, "--concurrency", strconv.Itoa(cfg.Concurrency))
	}
	var metricsAddr string
	if cfg.Pprof {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		metricsAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		args = append(args, "--metrics-addr", metricsAddr, "--pprof")
	}
	args = append(args, cfg.Args...)
	cmd := exec.Command(cfg.Bin, args...)
	cmd.Env = childEnv("SSL_CERT_FILE=" + cfg.CertFile)
	c, err := startChild(cfg.Name, cmd, filepath.Join(cfg.LogDir, cfg.Name+".log"))
	if err != nil {
		return nil, err
	}
	m, err := c.waitLine(ctx, hookdListening, 2*time.Minute)
	if err != nil {
		c.stop(5 * time.Second)
		return nil, err
	}
	api, err := client.New(m[1], cfg.AdminToken, client.WithHTTPClient(httpc))
	if err != nil {
		c.stop(5 * time.Second)
		return nil, err
	}
	n := &node{child: c, cfg: cfg, url: m[1], metricsAddr: metricsAddr, api: api}
	for deadline := time.Now().Add(time.Minute); ; {
		err := api.Readyz(ctx)
		if err == nil {
			return n, nil
		}
		if time.Now().After(deadline) || c.exited() {
			c.stop(5 * time.Second)
			return nil, fmt.Errorf("%s not ready: %w", cfg.Name, err)
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			c.stop(5 * time.Second)
			return nil, err
		}
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
