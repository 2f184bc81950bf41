package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/service"
	"github.com/hookd/hookd/internal/store"
	"github.com/hookd/hookd/internal/store/sqlite"
)

// testBundle is a UI on a real SQLite store with one account, one
// endpoint, n events delivered to it (left pending: nothing delivers
// here), and a signed-in session of the account.
type testBundle struct {
	ui      *UI
	cookie  *http.Cookie
	account string
}

func setup(tb testing.TB, events int) *testBundle {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "hookd.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	cat, err := catalog.New()
	if err != nil {
		tb.Fatal(err)
	}
	svc, err := service.New(service.Config{Store: st, Catalog: cat, Sender: delivery.NewSender(delivery.SenderConfig{Timeout: time.Second}),
		AdminToken: "admin-token-0123456789"})
	if err != nil {
		tb.Fatal(err)
	}
	admin := service.Actor{Admin: true}
	acc, tok, err := svc.CreateAccount(ctx, admin, "Acme")
	if err != nil {
		tb.Fatal(err)
	}
	if _, _, err := svc.CreateEndpoint(ctx, admin, service.CreateEndpointInput{AccountID: acc.ID,
		URL: "https://example.com/hooks", EventTypes: []string{"*"}}); err != nil {
		tb.Fatal(err)
	}
	for range events {
		if _, err := svc.SubmitEvent(ctx, admin, service.SubmitEventInput{AccountID: acc.ID, Event: "sms.received",
			Data: cat.Types()[1].Example}); err != nil {
			tb.Fatal(err)
		}
	}
	id, _, err := svc.SignIn(ctx, tok)
	if err != nil {
		tb.Fatal(err)
	}
	return &testBundle{ui: New(Config{Service: svc}), cookie: &http.Cookie{Name: sessionCookie, Value: id}, account: acc.ID}
}

func (b *testBundle) get(path string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.AddCookie(b.cookie)
	w := httptest.NewRecorder()
	b.ui.ServeHTTP(w, r)
	return w
}

func TestDeliveriesPage(t *testing.T) {
	b := setup(t, 51)
	w := b.get("/ui/deliveries")
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("GET /ui/deliveries = %d:\n%s", w.Code, body)
	}
	if n := strings.Count(body, `<tr class="st-pending">`); n != 50 {
		t.Errorf("rows = %d, want a page of 50", n)
	}
	if !strings.Contains(body, "Older deliveries") {
		t.Errorf("no link to the 51st delivery")
	}
	if w := b.get("/ui/deliveries?type=call.received"); strings.Count(w.Body.String(), `<tr class=`) != 0 {
		t.Errorf("the call.received filter shows sms.received deliveries")
	}
	if w := b.get("/ui/deliveries?status=succeeded"); strings.Count(w.Body.String(), `<tr class=`) != 0 {
		t.Errorf("the succeeded filter shows pending deliveries")
	}
	if w := b.get("/ui/deliveries?before=2020-01-01T00:00:00Z"); strings.Count(w.Body.String(), `<tr class=`) != 0 {
		t.Errorf("before 2020 shows deliveries")
	}
	if w := b.get("/ui/deliveries?q=nonsense"); !strings.Contains(w.Body.String(), "Search for an event id") {
		t.Errorf("a search that is not an id says nothing")
	}
}

func TestIDAt(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 9, 14, 0, 0, time.UTC)
	before := idAt(hook.PrefixDelivery, t0.Add(-time.Millisecond)) // the largest id made then is below this too
	at := idAt(hook.PrefixDelivery, t0)
	if !(before < at) || !hook.ValidID(hook.PrefixDelivery, at) {
		t.Errorf("idAt(%v) = %s, want a valid id above %s", t0, at, before)
	}
	if after := hook.NewID(hook.PrefixDelivery); !(at < after) { // made now, after t0
		t.Errorf("idAt(%v) = %s, want below %s", t0, at, after)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/ui/deliveries?status=failed": "/ui/deliveries?status=failed",
		"https://evil.example.com/":    "",
		"//evil.example.com/ui/":       "",
		"/ui/\\evil":                   "",
		"/v1/accounts":                 "",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChart(t *testing.T) {
	p := &store.EndpointStatsParams{Start: time.Unix(0, 0), Step: time.Hour, Buckets: 24}
	bs := p.Empty()
	bs[23].Succeeded, bs[23].Failed, bs[0].Succeeded = 10, 1, 1
	svg := string(chart(bs, "Last 24 hours"))
	if strings.Count(svg, `class="bar-ok"`) != 2 || strings.Count(svg, `class="bar-failed"`) != 1 ||
		!strings.Contains(svg, "11 delivered, 1 failed") {
		t.Errorf("chart = %s", svg)
	}
}

// BenchmarkDeliveriesPage renders the Deliveries screen with 50 rows,
// session lookup included.
func BenchmarkDeliveriesPage(b *testing.B) {
	tb := setup(b, 50)
	b.ReportAllocs()
	for b.Loop() {
		if w := tb.get("/ui/deliveries"); w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
