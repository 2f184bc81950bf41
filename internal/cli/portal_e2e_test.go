package cli_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/config"
)

// The portal's API routes and the UI's HTTP guarantees, without a browser.

// apiCall makes an API request and decodes the JSON answer.
func (b *bundle) apiCall(method, path, token, body string) (int, map[string]any) {
	b.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.url+path, r)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func errField(out map[string]any) (code, field string) {
	e, _ := out["error"].(map[string]any)
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	return code, field
}

func TestPortalLinksAPI(t *testing.T) {
	b := start(t)
	acc, _ := b.account()
	path := "/v1/accounts/" + acc.ID + "/portal-links"

	st, out := b.apiCall("POST", path, adminToken, "")
	if st != http.StatusCreated {
		t.Fatalf("POST %s with no body: %d %v", path, st, out)
	}
	exp, err := time.Parse(time.RFC3339, out["expires_at"].(string))
	if err != nil || exp.Before(time.Now().Add(9*time.Minute)) || exp.After(time.Now().Add(11*time.Minute)) {
		t.Errorf("expires_at = %v, want about 10 minutes from now", out["expires_at"])
	}
	if u, _ := out["url"].(string); !strings.HasPrefix(u, b.url+"/ui/link/") {
		t.Errorf("url = %q", u)
	}
	st, out = b.apiCall("POST", path, adminToken, `{"ttl":"24h","read_only":true,"return_url":"myapp://settings","accent_color":"#0A7D5A","logo_url":"https://cdn.example.com/logo.png","theme":"dark"}`)
	if st != http.StatusCreated {
		t.Fatalf("full body: %d %v", st, out)
	}

	for _, tc := range []struct{ body, field string }{
		{`{"ttl":"25h"}`, "ttl"},
		{`{"ttl":"soon"}`, "ttl"},
		{`{"ttl":"-5m"}`, "ttl"},
		{`{"accent_color":"red"}`, "accent_color"},
		{`{"accent_color":"#12345"}`, "accent_color"},
		{`{"return_url":"javascript:alert(1)"}`, "return_url"},
		{`{"return_url":"http://app.example.com/"}`, "return_url"},
		{`{"return_url":"/relative"}`, "return_url"},
		{`{"logo_url":"http://cdn.example.com/logo.png"}`, "logo_url"},
		{`{"theme":"pink"}`, "theme"},
	} {
		st, out := b.apiCall("POST", path, adminToken, tc.body)
		code, field := errField(out)
		if st != http.StatusBadRequest || code != "invalid_parameter" || field != tc.field {
			t.Errorf("POST %s: %d %s %s, want 400 invalid_parameter %s (%v)", tc.body, st, code, field, tc.field, out)
		}
	}
	if st, out := b.apiCall("POST", "/v1/accounts/acc_01ARZ3NDEKTSV4RRFFQ69G5FAV/portal-links", adminToken, ""); st != http.StatusNotFound {
		t.Errorf("unknown account: %d %v, want 404", st, out)
	}
	if st, _ := b.apiCall("POST", path, acc.Token, ""); st != http.StatusForbidden {
		t.Errorf("account token: %d, want 403", st)
	}
}

func TestAccountsList(t *testing.T) {
	b := start(t)
	a1, _ := b.account()
	a2, _ := b.account()
	st, out := b.apiCall("GET", "/v1/accounts?limit=1", adminToken, "")
	data, _ := out["data"].([]any)
	if st != http.StatusOK || len(data) != 1 || data[0].(map[string]any)["id"] != a2.ID || out["next_cursor"] == nil {
		t.Fatalf("first page: %d %v, want %s and a cursor", st, out, a2.ID)
	}
	if _, leaked := data[0].(map[string]any)["token"]; leaked {
		t.Errorf("the account list shows a token")
	}
	st, out = b.apiCall("GET", "/v1/accounts?limit=1&cursor="+url.QueryEscape(out["next_cursor"].(string)), adminToken, "")
	data, _ = out["data"].([]any)
	if st != http.StatusOK || len(data) != 1 || data[0].(map[string]any)["id"] != a1.ID {
		t.Fatalf("second page: %d %v, want %s", st, out, a1.ID)
	}
	if st, _ := b.apiCall("GET", "/v1/accounts", a1.Token, ""); st != http.StatusForbidden {
		t.Errorf("account token: %d, want 403", st)
	}
}

func TestEndpointStatsAPI(t *testing.T) {
	b := start(t, func(c *config.Config) { c.MaxRetries = 0; c.DisableAfter = 0 })
	acc, c := b.account()
	ok := newReceiver(t, nil)
	ep := b.endpoint(c, ok, client.CreateEndpointParams{})
	for range 2 {
		r := b.send(acc.ID, "call.received")
		b.waitStatus(c, r.Deliveries[0].ID, "succeeded")
	}
	if _, err := c.TestEndpoint(b.ctx, ep.ID); err != nil { // tests are not counted
		t.Fatal(err)
	}
	st, out := b.apiCall("GET", "/v1/endpoints/"+ep.ID+"/stats", acc.Token, "")
	buckets, _ := out["buckets"].([]any)
	if st != http.StatusOK || out["window"] != "24h" || len(buckets) != 24 {
		t.Fatalf("stats: %d %v, want 24 hourly buckets", st, out)
	}
	last := buckets[23].(map[string]any)
	if last["succeeded"] != float64(2) || last["failed"] != float64(0) {
		t.Errorf("last bucket = %v, want 2 succeeded", last)
	}
	first, _ := time.Parse(time.RFC3339, buckets[0].(map[string]any)["start"].(string))
	if first.After(time.Now().Add(-23*time.Hour)) || first.Before(time.Now().Add(-24*time.Hour)) {
		t.Errorf("first bucket starts %v, want 23–24 h ago", first)
	}
	st, out = b.apiCall("GET", "/v1/endpoints/"+ep.ID+"/stats?window=7d", acc.Token, "")
	buckets, _ = out["buckets"].([]any)
	if st != http.StatusOK || out["window"] != "7d" || len(buckets) != 7 || buckets[6].(map[string]any)["succeeded"] != float64(2) {
		t.Errorf("7d stats: %d %v", st, out)
	}
	st, out = b.apiCall("GET", "/v1/endpoints/"+ep.ID+"/stats?window=1y", acc.Token, "")
	if code, field := errField(out); st != http.StatusBadRequest || code != "invalid_parameter" || field != "window" {
		t.Errorf("window=1y: %d %v", st, out)
	}
	other, _ := b.account()
	if st, _ := b.apiCall("GET", "/v1/endpoints/"+ep.ID+"/stats", other.Token, ""); st != http.StatusNotFound {
		t.Errorf("another account's endpoint: %d, want 404", st)
	}
}

// uiClient is a browser-like client: cookies, no redirects followed.
func uiClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func uiGet(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestUIHTTP(t *testing.T) {
	b := start(t, func(c *config.Config) { c.UIFrameAncestors = "'self' https://dashboard.example.com" })
	acc, c := b.account()
	rcv := newReceiver(t, nil)
	ep := b.endpoint(c, rcv, client.CreateEndpointParams{})

	hc := uiClient(t)
	resp, _ := uiGet(t, hc, b.url+"/")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui/" {
		t.Errorf("GET / = %d → %q, want a redirect to /ui/", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := uiGet(t, hc, b.url+"/ui/")
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Paste your account token") {
		t.Fatalf("GET /ui/ = %d", resp.StatusCode)
	}
	if strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'self' https://dashboard.example.com") ||
		!strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	if xfo := resp.Header.Get("X-Frame-Options"); xfo != "" {
		t.Errorf("X-Frame-Options = %q with a list of frame ancestors, want none (CSP says it)", xfo)
	}

	resp, _ = uiGet(t, hc, b.url+"/ui/webhooks")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/?next=") {
		t.Errorf("signed out GET /ui/webhooks = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = postForm(t, hc, b.url+"/ui/signin", url.Values{"token": {"wrong"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "That token is not valid") {
		t.Errorf("wrong token: %d", resp.StatusCode)
	}
	resp, _ = postForm(t, hc, b.url+"/ui/signin", url.Values{"token": {acc.Token}})
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "hookd_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/ui/" {
		t.Fatalf("session cookie = %+v", session)
	}
	if strings.Contains(b.logs.String(), acc.Token) || strings.Contains(b.logs.String(), session.Value) {
		t.Errorf("the logs hold the token or the session id")
	}

	resp, body = uiGet(t, hc, b.url+"/ui/webhooks/"+ep.ID)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Enable webhook") {
		t.Fatalf("endpoint page = %d", resp.StatusCode)
	}
	sec, _ := c.GetSecret(b.ctx, ep.ID)
	if strings.Contains(html.UnescapeString(body), sec.Secret) {
		t.Errorf("the endpoint page holds the secret before Reveal")
	}
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token in the page")
	}
	// No CSRF token, a wrong one, a foreign Origin: refused, nothing changes.
	for name, form := range map[string]url.Values{
		"no token":    {"url": {"https://changed.example.com/"}, "event_types": {"sms.received"}},
		"wrong token": {"csrf": {"x" + m[1]}, "url": {"https://changed.example.com/"}, "event_types": {"sms.received"}},
	} {
		if resp, _ := postForm(t, hc, b.url+"/ui/webhooks/"+ep.ID, form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("POST", b.url+"/ui/webhooks/"+ep.ID+"/reveal", strings.NewReader(url.Values{"csrf": {m[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example.com")
	if resp, err := hc.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Origin: %v %v, want 403", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	if e, _ := c.GetEndpoint(b.ctx, ep.ID); e.URL != rcv.URL() {
		t.Errorf("a refused form changed the URL to %s", e.URL)
	}
	resp, body = postForm(t, hc, b.url+"/ui/webhooks/"+ep.ID+"/reveal", url.Values{"csrf": {m[1]}})
	// The page escapes the secret in its HTML ("+" is "&#43;" there).
	if resp.StatusCode != http.StatusOK || !strings.Contains(html.UnescapeString(body), sec.Secret) {
		t.Errorf("Reveal: %d, secret shown %v", resp.StatusCode, strings.Contains(html.UnescapeString(body), sec.Secret))
	}
	if strings.Contains(b.logs.String(), sec.Secret) {
		t.Errorf("the logs hold the secret")
	}
	// Sign out ends the session on the server, not only in the browser.
	resp, _ = postForm(t, hc, b.url+"/ui/signout", url.Values{"csrf": {m[1]}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign out: %d", resp.StatusCode)
	}
	replay := uiClient(t)
	u, _ := url.Parse(b.url + "/ui/")
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: "hookd_session", Value: session.Value}})
	if resp, _ := uiGet(t, replay, b.url+"/ui/webhooks"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("old session cookie after sign-out: %d, want a redirect to sign in", resp.StatusCode)
	}

	// A portal link opens a session once; a second use answers 410.
	_, pl := b.portalLink(acc.ID, map[string]any{"ttl": "1m"})
	lc := uiClient(t)
	resp, body = uiGet(t, lc, pl["url"])
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "/ui/webhooks") {
		t.Errorf("portal link: %d", resp.StatusCode)
	}
	if resp, body := uiGet(t, lc, b.url+"/ui/webhooks"); resp.StatusCode != http.StatusOK || !strings.Contains(body, rcv.URL()) {
		t.Errorf("after the portal link, webhooks: %d", resp.StatusCode)
	}
	resp, body = uiGet(t, uiClient(t), pl["url"])
	if resp.StatusCode != http.StatusGone || !strings.Contains(body, "This link has expired") {
		t.Errorf("second use of a portal link: %d, want 410", resp.StatusCode)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "hookd_session" && ck.Value != "" {
			t.Errorf("a used link set a session cookie")
		}
	}
	if resp, _ := uiGet(t, uiClient(t), b.url+"/ui/link/not-a-link"); resp.StatusCode != http.StatusGone {
		t.Errorf("unknown link: %d, want 410", resp.StatusCode)
	}
	if resp, _ := uiGet(t, hc, b.url+"/ui/no-such-page"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown page: %d, want 404", resp.StatusCode)
	}
}

// Two nodes share one PostgreSQL database: a session opened on one works
// on the other, and a portal link used on one is used up on both.
func TestUISessionAcrossNodes(t *testing.T) {
	db := postgresDB(t)
	onPG := func(c *config.Config) { c.DB = db }
	a := start(t, onPG)
	b := start(t, onPG)
	acc, _ := a.account()

	hc := uiClient(t) // cookies are per host, not per port: both nodes get them
	if resp, _ := postForm(t, hc, a.url+"/ui/signin", url.Values{"token": {acc.Token}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in on node A: %d", resp.StatusCode)
	}
	if resp, body := uiGet(t, hc, b.url+"/ui/webhooks"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "No webhook yet") {
		t.Errorf("node B with node A's session: %d", resp.StatusCode)
	}

	_, pl := a.portalLink(acc.ID, map[string]any{})
	link := strings.Replace(pl["url"], a.url, b.url, 1)
	if resp, _ := uiGet(t, uiClient(t), link); resp.StatusCode != http.StatusOK {
		t.Errorf("portal link made on A, used on B: %d", resp.StatusCode)
	}
	if resp, _ := uiGet(t, uiClient(t), pl["url"]); resp.StatusCode != http.StatusGone {
		t.Errorf("the same link again on A: %d, want 410", resp.StatusCode)
	}
}

// The Go client's portal calls against a real node.
func TestClientPortal(t *testing.T) {
	b := start(t)
	acc, c := b.account()
	l, err := b.admin.CreatePortalLink(b.ctx, acc.ID, client.PortalLinkParams{TTL: 2 * time.Minute, ReadOnly: true, Theme: "dark"})
	if err != nil || !strings.HasPrefix(l.URL, b.url+"/ui/link/") || time.Until(l.ExpiresAt) > 2*time.Minute+time.Second {
		t.Fatalf("CreatePortalLink = %+v, %v", l, err)
	}
	if _, err := b.admin.CreatePortalLink(b.ctx, acc.ID, client.PortalLinkParams{TTL: 48 * time.Hour}); err == nil {
		t.Errorf("CreatePortalLink with a 48h ttl: no error")
	}
	p, err := b.admin.ListAccounts(b.ctx, client.ListParams{})
	if err != nil || len(p.Data) != 1 || p.Data[0].ID != acc.ID {
		t.Errorf("ListAccounts = %+v, %v", p, err)
	}
	ep := b.endpoint(c, newReceiver(t, nil), client.CreateEndpointParams{})
	s, err := c.GetEndpointStats(b.ctx, ep.ID, "7d")
	if err != nil || s.Window != "7d" || len(s.Buckets) != 7 {
		t.Errorf("GetEndpointStats = %+v, %v", s, err)
	}
}
