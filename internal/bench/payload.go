package bench

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/catalog"
	"github.com/hookd/hookd/internal/hook"
)

// Event types the benchmark submits, half each.
const (
	typeCall = "call.received"
	typeSMS  = "sms.received"
)

// payloads are the data objects submitted, sized so that the envelope
// hookd delivers (hook.EncodeEnvelope) is about callSize and smsSize bytes.
type payloads struct {
	call, sms         json.RawMessage // normalised as hookd stores them
	callBody, smsBody int             // envelope sizes
}

// eventAt returns the type and data of the i-th event: calls and SMS
// alternate.
func (p *payloads) eventAt(i int) (string, json.RawMessage) {
	if i%2 == 0 {
		return typeCall, p.call
	}
	return typeSMS, p.sms
}

// meanBody is the mean delivered body size.
func (p *payloads) meanBody() float64 { return float64(p.callBody+p.smsBody) / 2 }

// newPayloads builds the catalogue's examples resized to the body sizes
// asked: the call's transcript gets more lines; the SMS becomes a plain SMS
// (no MMS attachment, as most are) whose text is padded. A size below what
// the shape allows leaves it at its smallest.
func newPayloads(callSize, smsSize int) (*payloads, error) {
	cat, err := catalog.New()
	if err != nil {
		return nil, err
	}
	call, err := resize(cat, typeCall, callSize, func(data map[string]any, lines int, pad int) {
		text := "I can confirm that the refund has been issued and you will see it on your statement shortly."
		line := func(t string) map[string]any {
			return map[string]any{"speaker": "agent", "at": "2026-11-27T12:29:50.000Z", "text": t}
		}
		tr := data["transcript"].([]any)
		for range lines {
			tr = append(tr, line(text))
		}
		switch {
		case pad > 0 && lines > 0:
			tr[len(tr)-1] = line(text + strings.Repeat(" ", pad))
		case pad > 0:
			tr = append(tr, line(strings.Repeat("x", pad))) // close enough
		}
		data["transcript"] = tr
	})
	if err != nil {
		return nil, err
	}
	sms, err := resize(cat, typeSMS, smsSize, func(data map[string]any, lines int, pad int) {
		data["media"] = []any{}
		if lines > 0 {
			data["body"] = data["body"].(string) + strings.Repeat(".", lines+pad)
		}
	})
	if err != nil {
		return nil, err
	}
	return &payloads{call: call, sms: sms, callBody: envelopeSize(typeCall, call), smsBody: envelopeSize(typeSMS, sms)}, nil
}

// resize grows the example of event with shape(data, units, pad): the
// smallest number of units whose envelope reaches size is found, then one
// unit fewer plus pad bytes makes it exact.
func resize(cat *catalog.Catalog, event string, size int, shape func(data map[string]any, units, pad int)) (json.RawMessage, error) {
	typ, ok := cat.Lookup(event)
	if !ok {
		return nil, fmt.Errorf("catalogue has no %s", event)
	}
	build := func(units, pad int) (json.RawMessage, error) {
		var data map[string]any
		if err := json.Unmarshal(typ.Example, &data); err != nil {
			return nil, err
		}
		shape(data, units, pad)
		raw, err := json.Marshal(data)
		if err != nil {
			return nil, err
		}
		out, err := cat.Validate(event, raw)
		if err != nil {
			return nil, fmt.Errorf("resized %s: %w", event, err)
		}
		return out, nil
	}
	prev, err := build(0, 0)
	if err != nil {
		return nil, err
	}
	for units := 1; envelopeSize(event, prev) < size && units < 1<<16; units++ {
		next, err := build(units, 0)
		if err != nil {
			return nil, err
		}
		if envelopeSize(event, next) >= size {
			return build(units-1, size-envelopeSize(event, prev))
		}
		prev = next
	}
	return prev, nil
}

// envelopeSize is the size of the body hookd sends for data.
func envelopeSize(event string, data []byte) int {
	return len(hook.EncodeEnvelope(hook.NewID(hook.PrefixEvent), event, time.Now(), hook.NewID(hook.PrefixAccount), data))
}
