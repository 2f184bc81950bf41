package ui

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// The seed's names and one-line descriptions of the event types.
var typeWords = map[string][2]string{
	"call.received": {"Call Received", "Triggered every time a call finishes"},
	"sms.received":  {"SMS Received", "Triggered every time you receive an SMS"},
}

func typeLabel(event string) string {
	if w, ok := typeWords[event]; ok {
		return w[0]
	}
	return event
}

func typeBlurb(event, fallback string) string {
	if w, ok := typeWords[event]; ok {
		return w[1]
	}
	return fallback
}

func itoa(n int) string { return strconv.Itoa(n) }

// idAt is the smallest id of kind prefix made at t: everything made
// before t sorts below it (ids are ULIDs, time first).
func idAt(prefix string, t time.Time) string {
	const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	ms := uint64(max(t.UnixMilli(), 0))
	var b [26]byte
	for i := 9; i >= 0; i-- {
		b[i] = crockford[ms&31]
		ms >>= 5
	}
	for i := 10; i < 26; i++ {
		b[i] = '0'
	}
	return prefix + string(b[:])
}

// durationWords says a duration for people: "24 hours", "90 minutes".
func durationWords(d time.Duration) string {
	switch {
	case d <= 0:
		return "no time at all"
	case d%time.Hour == 0:
		if d == time.Hour {
			return "1 hour"
		}
		return strconv.Itoa(int(d/time.Hour)) + " hours"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " minutes"
	}
	return d.String()
}

// latency formats an attempt's duration: "84 ms", "1.2 s".
func latency(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
}

// statusWords is "200 OK", "500 Internal Server Error".
func statusWords(code int) string {
	if code == 0 {
		return "no answer"
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", code, http.StatusText(code)))
}

// reasonWords says why an endpoint is off.
func reasonWords(e *hook.Endpoint) string {
	switch e.DisabledReason {
	case hook.ReasonConsecutiveFailures:
		if e.ConsecutiveFailures > 0 {
			return fmt.Sprintf("%d consecutive failed deliveries", e.ConsecutiveFailures)
		}
		return "consecutive failed deliveries"
	case hook.ReasonGone:
		return "the endpoint answered 410 Gone"
	case hook.ReasonManual:
		return "turned off"
	}
	return e.DisabledReason
}

// resultWords says how a delivery ended, or where it stands.
func resultWords(d *hook.Delivery) string {
	switch d.Status {
	case hook.StatusSucceeded:
		return "Delivered · " + statusWords(d.LastStatusCode)
	case hook.StatusPending:
		if d.Attempts == 0 {
			return "Waiting to be sent"
		}
		return "Retrying · " + errorWords(d.LastStatusCode, d.LastError)
	case hook.StatusCanceled:
		return "Canceled · " + strings.TrimPrefix(d.LastError, "canceled: ")
	}
	return "Failed · " + errorWords(d.LastStatusCode, d.LastError)
}

// errorWords says what went wrong in a sentence's worth of words.
func errorWords(code int, errText string) string {
	if code != 0 {
		return "your endpoint answered " + statusWords(code)
	}
	if errText == "" {
		return "no answer"
	}
	return errText
}

// chart draws buckets as an inline SVG bar chart: succeeded (lower part)
// and failed (upper part) per bucket, scaled to the busiest one. The
// title and the text beside it say the same in words.
func chart(bs []store.StatsBucket, span string) template.HTML {
	const w, h, gap = 8, 32, 2
	peak, ok, failed := 0, 0, 0
	for _, b := range bs {
		peak = max(peak, b.Succeeded+b.Failed)
		ok += b.Succeeded
		failed += b.Failed
	}
	var sb strings.Builder
	width := len(bs) * (w + gap)
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s: %d delivered, %d failed"><title>%s: %d delivered, %d failed</title>`,
		width, h, width, h, html.EscapeString(span), ok, failed, html.EscapeString(span), ok, failed)
	for i, b := range bs {
		x := i * (w + gap)
		fmt.Fprintf(&sb, `<rect class="bar-empty" x="%d" y="%d" width="%d" height="1"/>`, x, h-1, w)
		if peak == 0 {
			continue
		}
		sh := b.Succeeded * (h - 1) / peak
		fh := b.Failed * (h - 1) / peak
		if b.Succeeded > 0 && sh == 0 {
			sh = 1
		}
		if b.Failed > 0 && fh == 0 {
			fh = 1
		}
		if sh > 0 {
			fmt.Fprintf(&sb, `<rect class="bar-ok" x="%d" y="%d" width="%d" height="%d"/>`, x, h-sh, w, sh)
		}
		if fh > 0 {
			fmt.Fprintf(&sb, `<rect class="bar-failed" x="%d" y="%d" width="%d" height="%d"/>`, x, h-sh-fh, w, fh)
		}
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) // built from integers only
}

func chartTotals(bs []store.StatsBucket) [2]int {
	var t [2]int
	for _, b := range bs {
		t[0] += b.Succeeded
		t[1] += b.Failed
	}
	return t
}

func typesWords(types []string) string {
	if len(types) == 1 && types[0] == hook.AllEventTypes {
		return "All event types"
	}
	words := make([]string, len(types))
	for i, t := range types {
		words[i] = typeLabel(t)
	}
	return strings.Join(words, ", ")
}

var funcs = template.FuncMap{
	"iso":         func(t time.Time) string { return hook.FormatTime(t) },
	"human":       func(t time.Time) string { return t.UTC().Format("Jan 2, 15:04:05 UTC") },
	"latency":     latency,
	"status":      statusWords,
	"reason":      reasonWords,
	"result":      resultWords,
	"errorWords":  errorWords,
	"chart":       chart,
	"totals":      chartTotals,
	"typeLabel":   typeLabel,
	"typesWords":  typesWords,
	"words":       durationWords,
	"seconds":     func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) },
	"has":         func(m map[string]string, k string) bool { _, ok := m[k]; return ok },
	"isZero":      func(t time.Time) bool { return t.IsZero() },
	"automatic":   func(e *hook.Endpoint) bool { return hook.Automatic(e.DisabledReason) },
	"list":        func(s ...string) []string { return s },
	"triggerText": func(t string) string { return strings.ToUpper(t[:1]) + t[1:] },
}
