package delivery

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/netguard"
)

// Hint turns the outcome of a connection test into advice a customer can
// act on. The key phrases are listed in docs/delivery.md (clients may
// match them).
func Hint(o *Outcome, timeout time.Duration) string { return HintFor(o, timeout, "") }

// HintFor is Hint for a test of the endpoint URL target, which makes the
// advice fit where it points: a refused connection to this machine
// (localhost, 127.0.0.1) asks whether the server is running and listening
// on that port, not whether it is publicly reachable; a blocked target
// names --allow-private-targets in its second sentence.
func HintFor(o *Outcome, timeout time.Duration, target string) string {
	status := fmt.Sprintf("%d %s", o.StatusCode, http.StatusText(o.StatusCode))
	detail := strings.TrimPrefix(o.Error, o.Code+": ")
	switch o.Code {
	case "":
		return fmt.Sprintf("Your endpoint answered %s in %d ms. Check that it verified the signature.", strings.TrimSpace(status), o.Duration.Milliseconds())
	case hook.ErrCodeDNS:
		return "The host name could not be resolved (" + detail + "): check the URL."
	case hook.ErrCodeConnect:
		if o.StatusCode == 0 && strings.HasPrefix(detail, "the response headers exceed") {
			return "The endpoint answered, but " + detail + ": send smaller response headers."
		}
		if loopbackURL(target) {
			return "Could not connect (" + detail + "): is your server running on this machine and listening on the URL's port?"
		}
		return "Could not connect (" + detail + "): is your server running and publicly reachable?"
	case hook.ErrCodeTLS:
		return "The TLS handshake failed, certificate problem: " + detail +
			". Use a certificate from a public authority that is valid for this host name."
	case hook.ErrCodeTimeout:
		return "No complete answer in time: respond within " + seconds(timeout) +
			" seconds. Answer 2xx as soon as the event is received and process it afterwards."
	case hook.ErrCodeRedirect:
		return "The endpoint answered " + strings.TrimSpace(status) + ": redirects are not followed, so enter the final URL."
	case hook.ErrCodeBlockedTarget:
		return "The host resolves to a private or reserved address (" + detail + "): this address is not allowed. " +
			netguard.AdvicePrivateTargets
	case hook.ErrCodeCanceled:
		return "The test was canceled before it finished; try again."
	case hook.ErrCodeHTTPStatus:
		switch o.StatusCode {
		case http.StatusMethodNotAllowed:
			return "The endpoint answered " + status + ": your endpoint must accept POST."
		case http.StatusSwitchingProtocols:
			return "The endpoint answered " + status + ": hookd does not switch protocols; return a 2xx status once the event is received."
		case http.StatusGone:
			return "The endpoint answered " + status + ": return a 2xx status. (410 Gone tells hookd the URL is retired: a real delivery would disable this endpoint.)"
		}
		return "The endpoint answered " + strings.TrimSpace(status) + ": return a 2xx status once the event is received."
	}
	return "The attempt failed: " + o.Error
}

// seconds formats d in seconds without trailing zeros: 5, 1.5.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// loopbackURL reports whether raw is a URL whose host is this machine.
func loopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && netguard.IsLoopbackHost(u.Hostname())
}
