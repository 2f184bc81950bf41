package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/delivery"
	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/service"
	"github.com/hookd/hookd/internal/store/sqlite"
)

// batchAPI is the API with a small batch body limit, an account with one
// endpoint, and the account's token.
func batchAPI(t *testing.T, maxBatch int64) (h http.Handler, accountID, token string) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	sender := delivery.NewSender(delivery.SenderConfig{Timeout: 100 * time.Millisecond, Guard: &netguard.Guard{}})
	svc, err := service.New(service.Config{Store: st, Catalog: cat, Sender: sender, Guard: &netguard.Guard{}, AdminToken: fuzzAdmin})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	acc, tok, err := svc.CreateAccount(ctx, service.Actor{Admin: true}, "Batch")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreateEndpoint(ctx, service.Actor{AccountID: acc.ID}, service.CreateEndpointInput{
		URL: "https://example.com/hook", EventTypes: []string{"call.received"}}); err != nil {
		t.Fatal(err)
	}
	return New(Config{Service: svc, MaxBatchBytes: maxBatch}), acc.ID, tok
}

func send(h http.Handler, method, path, token, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

type batchAnswer struct {
	Results []struct {
		ID         string `json:"id"`
		Replayed   bool   `json:"replayed"`
		Deliveries []struct {
			ID         string `json:"id"`
			EndpointID string `json:"endpoint_id"`
		} `json:"deliveries"`
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	} `json:"results"`
}

// Each event of a batch is answered on its own, in order, with 200; an
// event answered with an id can be read back.
func TestSubmitEventsBatch(t *testing.T) {
	t.Parallel()
	h, acc, _ := batchAPI(t, 1<<20)
	call := fmt.Sprintf(`{"account_id":%q,"event":"call.received","data":%s`, acc, callExample(t))
	body := `{"events":[` + strings.Join([]string{
		call + `}`,                // 0: one delivery
		`42`,                      // 1: not an object
		call + `,"colour":"red"}`, // 2: unknown field
		strings.Replace(call, "call.received", "call.recieved", 1) + `}`, // 3: unknown type
		call + `,"idempotency_key":"k1"}`,                                // 4: new key
		call + `,"idempotency_key":"k1"}`,                                // 5: replays 4
		`{"account_id":"acc_nope","event":"sms.received","data":{}}`,     // 6: bad data (checked before the account)
		call + `,"data":{}}`,                                             // 7: data twice
	}, ",") + `]}`
	rec := send(h, "POST", "/v1/events/batch", fuzzAdmin, body)
	if rec.Code != http.StatusOK {
		t.Fatalf("POST /v1/events/batch = %d: %s", rec.Code, rec.Body)
	}
	var ans batchAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil || len(ans.Results) != 8 {
		t.Fatalf("body %s: %v; want 8 results", rec.Body, err)
	}
	for _, i := range []int{0, 4} {
		r := ans.Results[i]
		if r.Error != nil || !strings.HasPrefix(r.ID, "evt_") || len(r.Deliveries) != 1 || r.Replayed {
			t.Errorf("item %d = %+v; want a new event with one delivery", i, r)
			continue
		}
		if got := send(h, "GET", "/v1/events/"+r.ID, fuzzAdmin, ""); got.Code != http.StatusOK {
			t.Errorf("GET the event of item %d = %d", i, got.Code)
		}
	}
	if r := ans.Results[5]; r.Error != nil || r.ID != ans.Results[4].ID || !r.Replayed ||
		len(r.Deliveries) != 1 || r.Deliveries[0].ID != ans.Results[4].Deliveries[0].ID {
		t.Errorf("item 5 = %+v; want the answer of item 4, replayed", r)
	}
	for i, want := range map[int][2]string{
		1: {"invalid_json", ""}, 2: {"unknown_field", "colour"}, 3: {"unknown_event_type", "event"},
		6: {"invalid_event", ""}, 7: {"invalid_json", "data"},
	} {
		r := ans.Results[i]
		if r.ID != "" || r.Error == nil || r.Error.Code != want[0] || (want[1] != "" && r.Error.Field != want[1]) || r.Error.Message == "" {
			t.Errorf("item %d = %+v (error %+v); want error %s, field %q", i, r, r.Error, want[0], want[1])
		}
	}
}

// callExample is the catalogue's call.received example data, compact.
func callExample(t *testing.T) []byte {
	t.Helper()
	cat, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, et := range cat.Types() {
		if et.Event == "call.received" {
			var buf bytes.Buffer
			if err := json.Compact(&buf, et.Example); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes()
		}
	}
	t.Fatal("no call.received example")
	return nil
}

// The request fails as a whole only when it cannot be read.
func TestSubmitEventsBatchRefused(t *testing.T) {
	t.Parallel()
	h, acc, tok := batchAPI(t, 4096)
	item := fmt.Sprintf(`{"account_id":%q,"event":"call.received","data":{}}`, acc)
	many := `{"events":[` + strings.TrimSuffix(strings.Repeat("{},", 501), ",") + `]}`
	for _, tc := range []struct {
		name, body, token string
		header            []string
		status            int
		code, field       string
	}{
		{"broken JSON", `{"events":[`, fuzzAdmin, nil, 400, "invalid_json", ""},
		{"not an object", `[1]`, fuzzAdmin, nil, 400, "invalid_json", ""},
		{"no events", `{}`, fuzzAdmin, nil, 400, "invalid_parameter", "events"},
		{"events not a list", `{"events":{}}`, fuzzAdmin, nil, 400, "invalid_json", "events"},
		{"unknown field", `{"events":[],"x":1}`, fuzzAdmin, nil, 400, "unknown_field", "x"},
		{"more than 500 events", many, fuzzAdmin, nil, 400, "invalid_parameter", "events"},
		{"over --max-batch-bytes", `{"events":[` + item + strings.Repeat(","+item, 60) + `]}`, fuzzAdmin, nil, 413, "payload_too_large", ""},
		{"an account token", `{"events":[` + item + `]}`, tok, nil, 403, "forbidden", ""},
		{"an Idempotency-Key header", `{"events":[` + item + `]}`, fuzzAdmin, []string{"Idempotency-Key", "k"}, 400, "invalid_parameter", "Idempotency-Key"},
	} {
		rec := send(h, "POST", "/v1/events/batch", tc.token, tc.body, tc.header...)
		var e apiError
		if rec.Code != tc.status || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Code != tc.code || e.Error.Field != tc.field {
			t.Errorf("%s: %d %s; want %d %s (field %q)", tc.name, rec.Code, rec.Body, tc.status, tc.code, tc.field)
		}
	}
	// Nothing of a refused request was stored: the account has no deliveries.
	rec := send(h, "GET", "/v1/deliveries?account_id="+acc, fuzzAdmin, "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"data":[]`) {
		t.Errorf("deliveries after refused batches: %d %s", rec.Code, rec.Body)
	}
	// An empty list is readable: no results.
	if rec := send(h, "POST", "/v1/events/batch", fuzzAdmin, `{"events":[]}`); rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"results":[]}` {
		t.Errorf("an empty batch = %d %s; want 200 with no results", rec.Code, rec.Body)
	}
}

// FuzzSubmitEventsBatch: whatever a batch holds, the answer is never a
// 5xx, and a 200 has one result per event.
func FuzzSubmitEventsBatch(f *testing.F) {
	for _, s := range []string{
		`{"events":[{"account_id":"acc_x","event":"call.received","data":{}}]}`,
		`{"events":[{},[],null,"x",{"idempotency_key":"\u00ff"}]}`,
		`{"events":[{"account_id":"","event":"sms.received","data":{"from":{"number":"+1"}},"idempotency_key":"k"},{"data":1,"data":2}]}`,
		`{"events":null}`,
	} {
		f.Add(s)
	}
	var (
		h   http.Handler
		acc string
	)
	f.Fuzz(func(t *testing.T, body string) {
		if h == nil {
			h, acc, _ = batchAPI(t, 1<<16)
		}
		body = strings.ReplaceAll(body, "acc_x", acc)
		rec := send(h, "POST", "/v1/events/batch", fuzzAdmin, body)
		if rec.Code >= 500 {
			t.Fatalf("%q: status %d: %s", body, rec.Code, rec.Body)
		}
		if rec.Code == 200 {
			var in struct{ Events []json.RawMessage }
			var ans batchAnswer
			if json.Unmarshal([]byte(body), &in) != nil || json.Unmarshal(rec.Body.Bytes(), &ans) != nil || len(ans.Results) != len(in.Events) {
				t.Fatalf("%q: 200 with %s", body, rec.Body)
			}
		}
	})
}
