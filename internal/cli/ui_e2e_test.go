package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/config"
)

// The web UI end to end: a real node, a real receiver and headless
// Chromium, driven the way a person uses the portal: controls are found by
// their visible labels.
//
// Needs Debian's chromium (apt-get install -y chromium) or HOOKD_CHROMIUM
// naming a Chrome binary. HOOKD_UI_SCREENSHOTS=dir saves the screenshots
// there (docs/ui holds the committed set).

// chromiumPath returns the browser to drive, or "" if there is none.
func chromiumPath() string {
	if p := os.Getenv("HOOKD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// viewports the browser tests run at: a phone and a desktop.
var viewports = []struct {
	name          string
	width, height int64
}{
	{"phone", 390, 844},
	{"desktop", 1280, 800},
}

// browser is one headless Chromium shared by the subtests.
type browser struct {
	alloc context.Context
	shots string // where screenshots go
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("no Chromium: install it with `apt-get install -y chromium` (or set HOOKD_CHROMIUM) to run the web UI browser tests")
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI containers run as root
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
	)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	// Start the browser once, in its own tab that lives as long as the test.
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(cancelRoot)
	if err := chromedp.Run(root); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	shots := os.Getenv("HOOKD_UI_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{alloc: root, shots: shots}
}

// tab is a browser tab sized to a viewport. Tabs are used one after the
// other, each as a new visitor: opening one clears the browser's cookies.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	vp   string
	b    *browser
}

func (br *browser) tab(t *testing.T, base, vp string, width, height int64) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(br.alloc)
	t.Cleanup(cancel)
	// The first Run opens the tab and ties it to the context it gets: give
	// it the tab's own, not one of run's bounded ones.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	tb := &tab{t: t, ctx: ctx, base: base, vp: vp, b: br}
	tb.run(network.ClearBrowserCookies(), chromedp.EmulateViewport(width, height))
	return tb
}

// run runs actions with a generous bound: the machine is shared.
func (tb *tab) run(actions ...chromedp.Action) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var body string
		_ = chromedp.Run(tb.ctx, chromedp.Text("body", &body, chromedp.ByQuery))
		tb.t.Fatalf("browser: %v\npage text:\n%s", err, body)
	}
}

func (tb *tab) open(path string) { tb.t.Helper(); tb.run(chromedp.Navigate(tb.base + path)) }

// field is the XPath of the control a label names.
func field(label string) string {
	return fmt.Sprintf(`//*[@id=//label[normalize-space(.)=%q]/@for]`, label)
}

// button is the XPath of a button with this text.
func button(text string) string { return fmt.Sprintf(`//button[normalize-space(.)=%q]`, text) }

// link is the XPath of a link with this text.
func link(text string) string { return fmt.Sprintf(`//a[normalize-space(.)=%q]`, text) }

// textOf is the XPath of an element whose text contains s.
func textOf(s string) string { return fmt.Sprintf(`//*[contains(normalize-space(.), %q)]`, s) }

func (tb *tab) fill(label, value string) {
	tb.t.Helper()
	tb.run(chromedp.SetValue(field(label), value, chromedp.BySearch))
}

func (tb *tab) click(xpath string) {
	tb.t.Helper()
	tb.run(chromedp.WaitVisible(xpath, chromedp.BySearch), chromedp.Click(xpath, chromedp.BySearch, chromedp.NodeVisible))
}

// follow clicks a button or link that loads a new page, and waits until
// the new page has replaced the old one.
func (tb *tab) follow(xpath string) {
	tb.t.Helper()
	tb.run(chromedp.WaitVisible(xpath, chromedp.BySearch),
		chromedp.Evaluate(`document.documentElement.dataset.stale = "1"`, nil),
		chromedp.Click(xpath, chromedp.BySearch, chromedp.NodeVisible),
		chromedp.WaitNotPresent(`html[data-stale]`, chromedp.ByQuery),
		chromedp.WaitReady("body", chromedp.ByQuery))
}

// see waits until the page shows s.
func (tb *tab) see(s string) {
	tb.t.Helper()
	tb.run(chromedp.WaitVisible(textOf(s), chromedp.BySearch))
}

// absent checks that nothing matches xpath on the page as it is.
func (tb *tab) absent(xpath, what string) {
	tb.t.Helper()
	var n int
	tb.run(chromedp.Evaluate(fmt.Sprintf(`document.evaluate(%q, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null).snapshotLength`, xpath), &n))
	if n != 0 {
		tb.t.Errorf("%s: found %d, want none", what, n)
	}
}

func (tb *tab) h1() string {
	tb.t.Helper()
	var s string
	tb.run(chromedp.Text("h1", &s, chromedp.ByQuery))
	return strings.TrimSpace(s)
}

// shot saves a full-page PNG and checks the page fits the viewport width
// (no horizontal scrolling).
func (tb *tab) shot(name string) {
	tb.t.Helper()
	var png []byte
	var overflow bool
	tb.run(
		chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow),
		chromedp.FullScreenshot(&png, 100),
	)
	if overflow {
		tb.t.Errorf("%s at %s: the page is wider than the viewport", name, tb.vp)
	}
	if err := os.WriteFile(filepath.Join(tb.b.shots, tb.vp+"-"+name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// post submits a form to path from inside the page, with the page's CSRF
// token, as a script on the page could, and returns the heading of the
// page that answers.
func (tb *tab) post(path string, form map[string]string) string {
	tb.t.Helper()
	js, _ := json.Marshal(form)
	tb.run(chromedp.Evaluate(fmt.Sprintf(`(() => {
		const f = document.createElement('form');
		f.method = 'post';
		f.action = %q;
		const fields = Object.assign({}, %s);
		const csrf = document.querySelector('input[name=csrf]');
		if (csrf) fields.csrf = csrf.value;
		for (const [k, v] of Object.entries(fields)) {
			const i = document.createElement('input');
			i.type = 'hidden'; i.name = k; i.value = v;
			f.appendChild(i);
		}
		document.body.replaceChildren(f);
		f.submit();
	})()`, path, js), nil), chromedp.WaitVisible("h1", chromedp.ByQuery))
	return tb.h1()
}

func (r *receiver) setRespond(f func(int) reply) {
	r.mu.Lock()
	r.respond = f
	r.mu.Unlock()
}

// portalLink asks for a portal link as the app's backend would.
func (b *bundle) portalLink(accountID string, body map[string]any) (int, map[string]string) {
	b.t.Helper()
	js, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, b.url+"/v1/accounts/"+accountID+"/portal-links", bytes.NewReader(js))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestUIBrowser(t *testing.T) {
	br := newBrowser(t)
	b := start(t, func(c *config.Config) {
		c.MaxRetries = 0 // every failed delivery fails for good at once
		c.DisableAfter = 2
	})
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			b := b.with(t)
			rcv := newReceiver(t, nil)
			acc, accClient := b.account()

			tb := br.tab(t, b.url, vp.name, vp.width, vp.height)
			t.Log("sign in with the account token")
			tb.open("/ui/")
			tb.shot("signin")
			tb.fill("Token", "not-a-token")
			tb.follow(button("Sign in"))
			tb.see("That token is not valid")
			tb.fill("Token", acc.Token)
			tb.follow(button("Sign in"))
			tb.see("No webhook yet")
			if got := tb.h1(); got != "Webhooks" {
				t.Fatalf("after sign-in h1 = %q, want Webhooks", got)
			}
			tb.shot("webhooks-empty")

			t.Log("add a webhook: an http:// URL is refused next to the field, then a valid one is saved")
			tb.follow(link("Add webhook"))
			tb.fill("URL", "http://example.com/hooks")
			tb.click(`//input[@id=//label[normalize-space(.)="Call Received"]/@for]`)
			tb.see("Triggered every time a call finishes")
			tb.see("Triggered every time you receive an SMS")
			tb.follow(button("Save"))
			tb.run(chromedp.WaitVisible(`//p[@id="url-error"][contains(., "https")]`, chromedp.BySearch))
			tb.shot("add-invalid-url")
			tb.fill("URL", rcv.URL())
			tb.click(`//input[@id=//label[normalize-space(.)="SMS Received"]/@for]`)
			tb.follow(button("Save"))
			tb.see("Webhook saved. It is on")
			es, err := accClient.ListEndpoints(b.ctx, client.EndpointListParams{})
			if err != nil || len(es.Data) != 1 {
				t.Fatalf("endpoints after Save: %+v, %v", es, err)
			}
			ep := es.Data[0]
			if !ep.Enabled || ep.URL != rcv.URL() || !slices.Equal(ep.EventTypes, []string{"call.received", "sms.received"}) {
				t.Fatalf("saved endpoint = %+v", ep)
			}
			sec, err := accClient.GetSecret(b.ctx, ep.ID)
			if err != nil {
				t.Fatal(err)
			}
			rcv.setSecret(sec.Secret)

			t.Log("test the connection: success, then failure with the hint")
			tb.follow(button("Send"))
			tb.see("200 OK in")
			tb.shot("test-ok")
			if r := rcv.next(); r.Verified != nil || !strings.Contains(string(r.Body), `"webhook.test"`) {
				t.Errorf("test request: verified %v, body %s", r.Verified, r.Body)
			}
			rcv.setRespond(always(reply{Status: http.StatusInternalServerError}))
			tb.follow(button("Send"))
			tb.see("return a 2xx status")
			tb.see("Your endpoint answered 500 Internal Server Error")
			tb.see("it answers within 2 seconds") // the harness's attempt timeout
			tb.shot("test-failed")

			t.Log("the endpoint is auto-disabled by a failing receiver")
			first := b.send(acc.ID, "call.received")
			b.waitStatus(accClient, first.Deliveries[0].ID, "failed")
			b.send(acc.ID, "sms.received")
			b.waitEndpoint(accClient, ep.ID, "auto-disabled", func(e *client.Endpoint) bool { return !e.Enabled })
			tb.open("/ui/webhooks")
			tb.see("Disabled — 2 consecutive failed deliveries")
			tb.shot("webhooks-disabled")
			tb.open("/ui/webhooks/" + ep.ID)
			tb.see("It was turned off after 2 consecutive failed deliveries")
			tb.shot("endpoint-disabled")

			t.Log("re-enable, then recover the missed events")
			rcv.setRespond(nil)
			drain(rcv)
			missed := b.send(acc.ID, "call.received") // arrives while disabled: no delivery
			if len(missed.Deliveries) != 0 {
				t.Fatalf("event while disabled got deliveries %+v", missed.Deliveries)
			}
			tb.follow(button("Re-enable"))
			tb.see("Webhook re-enabled")
			var since string
			tb.run(chromedp.Value(field("Send events missed since (UTC)"), &since, chromedp.BySearch))
			if e, _ := accClient.GetEndpoint(b.ctx, ep.ID); e == nil || !e.Enabled || e.DisabledReason != nil {
				t.Fatalf("after Re-enable: %+v", e)
			}
			if !strings.HasPrefix(since, time.Now().UTC().Format("2006-01-02T")) {
				t.Errorf("recover field = %q, want the disabled_at time", since)
			}
			tb.shot("reenabled")
			tb.follow(button("Send missed events"))
			tb.see("missed event(s) for delivery")
			var flash string
			tb.run(chromedp.Text(`.notice.ok`, &flash, chromedp.ByQuery))
			if !strings.Contains(flash, "Queued 1 ") { // the event that arrived while it was off
				t.Errorf("recover said %q, want 1 queued", flash)
			}
			if r := rcv.next(); r.Header.Get("webhook-id") != missed.ID {
				t.Errorf("recovered webhook-id = %q, want %s", r.Header.Get("webhook-id"), missed.ID)
			}

			t.Log("deliveries: the list, a delivery's attempts, redeliver")
			tb.open("/ui/deliveries")
			tb.see(first.Deliveries[0].ID)
			tb.shot("deliveries")
			tb.fill("Status", "failed")
			tb.follow(button("Apply"))
			tb.see(first.Deliveries[0].ID)
			tb.absent(textOf("Delivered · 200 OK"), "succeeded rows under the failed filter")
			tb.follow(link(first.Deliveries[0].ID))
			tb.see("Attempt 1")
			tb.see("500 Internal Server Error")
			tb.see("carries the same webhook-id header")
			tb.see("call_id") // the pretty-printed payload
			tb.shot("delivery")
			drain(rcv)
			tb.follow(button("Redeliver"))
			tb.see("Redelivery queued")
			if r := rcv.next(); r.Header.Get("webhook-id") != first.ID {
				t.Errorf("redelivery webhook-id = %q, want %s", r.Header.Get("webhook-id"), first.ID)
			}
			tb.open("/ui/deliveries?q=" + first.ID)
			tb.see(first.Deliveries[0].ID)

			tb.open("/ui/event-types")
			tb.see("Triggered every time a call finishes")
			tb.shot("event-types")

			t.Log("the secret stays hidden until revealed")
			tb.open("/ui/webhooks/" + ep.ID)
			tb.see("24 h, per hour · ")
			tb.see("7 days, per day · ")
			tb.absent(fmt.Sprintf(`//input[@value=%q]`, sec.Secret), "secret before Reveal")
			var html string
			tb.run(chromedp.OuterHTML("html", &html, chromedp.ByQuery))
			if strings.Contains(html, sec.Secret) {
				t.Errorf("the page holds the secret before Reveal")
			}
			tb.follow(button("Reveal"))
			var shown string
			tb.run(chromedp.Value(field("Secret"), &shown, chromedp.BySearch))
			if shown != sec.Secret {
				t.Errorf("revealed secret = %q, want the endpoint's", shown)
			}
			tb.shot("endpoint")

			t.Log("delivery controls: a bad filter is refused next to its field, then a filter, headers and a rate limit are saved")
			tb.fill("Payload filter", `{"direction":"inbound"}`)
			tb.follow(button("Save"))
			tb.run(chromedp.WaitVisible(`//p[@id="filter-error"][contains(., "paths start at the envelope")]`, chromedp.BySearch))
			tb.shot("controls-invalid-filter")
			const apiKey = "Bearer sk_live_0123456789abcdef5f2c"
			tb.fill("Payload filter", `{"data.direction":"inbound"}`)
			tb.fill("Custom headers", "Authorization: "+apiKey+"\nX-Team: on-call")
			tb.fill("Rate limit (deliveries per second)", "5")
			tb.follow(button("Save"))
			tb.see("Changes saved.")
			saved, err := accClient.GetEndpoint(b.ctx, ep.ID)
			if err != nil || string(saved.Filter) != `{"data.direction":"inbound"}` || saved.RateLimit == nil || *saved.RateLimit != 5 ||
				saved.Headers["Authorization"] != "••••5f2c" {
				t.Errorf("after Save: filter %s, rate %v, headers %v, %v", saved.Filter, saved.RateLimit, saved.Headers, err)
			}
			tb.run(chromedp.OuterHTML("html", &html, chromedp.ByQuery))
			if strings.Contains(html, "0123456789abcdef") {
				t.Errorf("the page shows a custom header's value")
			}
			// Saving again with the masked value untouched keeps the value.
			tb.follow(button("Save"))
			tb.see("Changes saved.")
			if hs, err := accClient.GetEndpointHeaders(b.ctx, ep.ID); err != nil || hs["Authorization"] != apiKey || hs["X-Team"] != "on-call" {
				t.Errorf("headers after a second Save = %v, %v", hs, err)
			}

			t.Log("try the filter: on the example event, then on a stored event")
			tb.fill("Filter to try", `{"data.direction":"outbound"}`)
			tb.follow(button("Try the filter"))
			tb.see("No match: this event would not be delivered")
			tb.see("does not match (data.direction is") // (XPath string literals cannot hold the quotes of the values)
			tb.fill("Filter to try", `{"data.direction":"inbound","data.duration_seconds":{"$gte":30}}`)
			tb.fill("Event ID to try", first.ID)
			tb.follow(button("Try the filter"))
			tb.see("Matches: this event would be delivered")
			tb.see("data.duration_seconds $gte 30: matches (data.duration_seconds is 357)")
			tb.shot("try-filter")

			t.Log("another account's ids answer not found")
			_, otherClient := b.account()
			otherEp := b.endpoint(otherClient, rcv, client.CreateEndpointParams{})
			tb.open("/ui/webhooks/" + otherEp.ID)
			if got := tb.h1(); got != "Not found" {
				t.Errorf("another account's endpoint: h1 = %q, want Not found", got)
			}
			tb.open("/ui/webhooks")
			if h := tb.post("/ui/webhooks/"+otherEp.ID+"/test", nil); h != "Not found" {
				t.Errorf("test of another account's endpoint: %q, want Not found", h)
			}
			tb.open("/ui/deliveries?endpoint=" + otherEp.ID)
			tb.see("Nothing matches")

			t.Log("a read-only portal link: view only, no secrets, and it works once")
			status, pl := b.portalLink(acc.ID, map[string]any{"read_only": true, "return_url": "https://app.example.com/settings",
				"accent_color": "#8a2be2", "theme": map[string]string{"phone": "light", "desktop": "dark"}[vp.name]})
			if status != http.StatusCreated || !strings.HasPrefix(pl["url"], b.url+"/ui/link/") {
				t.Fatalf("portal link: %d %v", status, pl)
			}
			ro := br.tab(t, b.url, vp.name, vp.width, vp.height)
			ro.run(chromedp.Navigate(pl["url"]))
			ro.see("view-only")
			ro.see(rcv.URL())
			ro.run(chromedp.WaitVisible(`//a[normalize-space(.)="‹ Back"][@href="https://app.example.com/settings"]`, chromedp.BySearch))
			ro.absent(link("Add webhook"), "Add webhook in a read-only session")
			ro.shot("readonly-webhooks")
			ro.open("/ui/webhooks/" + ep.ID)
			ro.see("Test the connection")
			ro.absent(button("Save"), "Save in a read-only session")
			ro.absent(button("Send"), "Send in a read-only session")
			ro.absent(button("Reveal"), "Reveal in a read-only session")
			ro.shot("readonly-endpoint")
			for _, path := range []string{"/ui/webhooks/" + ep.ID, "/ui/webhooks/" + ep.ID + "/reveal", "/ui/webhooks/" + ep.ID + "/rotate",
				"/ui/deliveries/" + first.Deliveries[0].ID + "/redeliver"} {
				ro.open("/ui/webhooks")
				if h := ro.post(path, map[string]string{"url": "https://changed.example.com/", "event_types": "sms.received"}); h != "Not allowed" {
					t.Errorf("read-only POST %s: %q, want Not allowed", path, h)
				}
			}
			if e, _ := accClient.GetEndpoint(b.ctx, ep.ID); e == nil || e.URL != rcv.URL() {
				t.Errorf("after read-only POSTs the endpoint is %+v", e)
			}
			used := br.tab(t, b.url, vp.name, vp.width, vp.height)
			used.run(chromedp.Navigate(pl["url"]))
			used.see("This link has expired")
			used.shot("link-used")
			used.open("/ui/webhooks")
			used.see("Paste your account token") // no session was opened

			t.Log("the admin picks an account from the overview")
			adm := br.tab(t, b.url, vp.name, vp.width, vp.height)
			adm.open("/ui/")
			adm.fill("Token", adminToken)
			adm.follow(button("Sign in"))
			adm.see("Pending deliveries")
			adm.shot("admin")
			adm.follow(fmt.Sprintf(`//li[contains(., %q)]//button[normalize-space(.)="Open"]`, acc.ID))
			adm.see(rcv.URL())
		})
	}
}
