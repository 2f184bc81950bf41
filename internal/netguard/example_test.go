package netguard_test

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hookd/hookd/internal/netguard"
)

func ExampleValidateURL() {
	opts := netguard.URLOptions{Guard: &netguard.Guard{}}
	for _, raw := range []string{
		"HTTPS://Hooks.Example.com:443/hookd?v=1",
		"https://0x7f.1/",
		"https://[::ffff:169.254.169.254]/",
		"http://example.com/",
		"https://localhost/hook",
	} {
		u, err := netguard.ValidateURL(raw, opts)
		if err != nil {
			fmt.Println("refused:", err)
			continue
		}
		fmt.Println("ok:", u)
	}
	// Output:
	// ok: https://hooks.example.com/hookd?v=1
	// refused: target address not allowed: 127.0.0.1 is loopback. For local development, run hookd serve with --allow-private-targets.
	// refused: target address not allowed: ::ffff:169.254.169.254 is IPv4-mapped cloud metadata. For local development, run hookd serve with --allow-private-targets.
	// refused: URL must use https. For local development, run hookd serve with --allow-http.
	// ok: https://localhost/hook
}

func ExampleGuard_DialContext() {
	guard := &netguard.Guard{} // blocks every non-public address
	client := &http.Client{
		Transport: &http.Transport{
			Proxy:       nil, // with a proxy the guard would check the proxy, not the endpoint
			DialContext: guard.DialContext(&net.Dialer{Timeout: 5 * time.Second}),
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	_ = client // every connection it makes is checked on the IP actually dialed
}
