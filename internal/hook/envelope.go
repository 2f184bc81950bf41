package hook

import (
	"encoding/json"
	"time"
)

// TimeFormat is how hookd writes every timestamp: UTC, milliseconds, Z.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime formats t with TimeFormat.
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeFormat)
}

// EncodeEnvelope returns the envelope bytes of an event: the JSON body of
// every delivery (docs/receiving.md; receivers decode it as webhook.Envelope). data must be a
// compact, valid JSON value (as the catalogue's validation returns it); the
// other members are quoted as JSON strings.
func EncodeEnvelope(id, eventType string, at time.Time, accountID string, data []byte) []byte {
	b := make([]byte, 0, len(data)+160)
	b = append(b, `{"id":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"event":`...)
	b = appendJSONString(b, eventType)
	b = append(b, `,"timestamp":"`...)
	b = at.UTC().AppendFormat(b, TimeFormat)
	b = append(b, `","account_id":`...)
	b = appendJSONString(b, accountID)
	b = append(b, `,"data":`...)
	b = append(b, data...)
	b = append(b, '}')
	return b
}

// appendJSONString appends s as a JSON string. Ids and event types are
// plain ASCII, which is copied as is; anything else goes through
// encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
