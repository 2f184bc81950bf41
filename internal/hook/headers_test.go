package hook_test

import (
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/hook"
)

func TestParseHeaders(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("v", hook.MaxHeaderValueLen)
	var many, big []string
	for i := range hook.MaxHeaders + 1 {
		many = append(many, `"X-H`+strings.Repeat("a", i)+`":"v"`)
	}
	for i := range 9 {
		big = append(big, `"X-B`+strings.Repeat("b", i)+`":"`+long+`"`)
	}
	tests := []struct {
		in      string
		wantErr string // "" for success
	}{
		{`null`, ""},
		{`{}`, ""},
		{`{"Authorization":"Bearer 0123456789abcdef5f2c","X-Api-Key":"k"}`, ""},
		{`{"X-Tab":"a\tb"}`, ""},
		{`[]`, "is an object"},
		{`{"Webhook-Signature":"x"}`, `"Webhook-Signature" cannot be set`},
		{`{"content-type":"text/plain"}`, `"content-type" cannot be set`},
		{`{"Host":"x"}`, `"Host" cannot be set`},
		{`{"Proxy-Authorization":"x"}`, `"Proxy-Authorization" cannot be set`},
		{`{"TE":"x"}`, `"TE" cannot be set`},
		{`{"Transfer-Encoding":"x"}`, `cannot be set`},
		{`{"X-A":"1","x-a":"2"}`, `"x-a" is given twice`},
		{`{"X A":"1"}`, "not an HTTP token"},
		{`{"":"1"}`, "not 1 to 64 bytes"},
		{`{"` + strings.Repeat("x", 65) + `":"1"}`, "not 1 to 64 bytes"},
		{`{"X-A":1}`, "must be a string"},
		{`{"X-A":"a\r\nX-Evil: 1"}`, "CR, LF or NUL"},
		{`{"X-A":"a\u0000"}`, "CR, LF or NUL"},
		{`{"X-A":"a\u0007"}`, "control character"},
		{`{"X-A":"` + long + `v"}`, "the limit is 1024"},
		{`{` + strings.Join(many, ",") + `}`, "the limit is 20"},
		{`{` + strings.Join(big, ",") + `}`, "the limit is 8192"},
	}
	for _, tc := range tests {
		hs, err := hook.ParseHeaders([]byte(tc.in))
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("ParseHeaders(%.50s) = %v", tc.in, err)
			}
			continue
		}
		if hook.ErrorCode(err) != hook.EInvalidParameter || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ParseHeaders(%.50s) = %v, %v; want invalid_parameter saying %q", tc.in, hs, err, tc.wantErr)
		}
	}
	hs, _ := hook.ParseHeaders([]byte(`{"Authorization":"Bearer 0123456789abcdef5f2c","X-Api-Key":"k"}`))
	got := hook.MaskedHeaders(hs)
	if got["Authorization"] != "••••5f2c" || got["X-Api-Key"] != "••••" || len(got) != 2 {
		t.Errorf("MaskedHeaders = %v", got)
	}
}
