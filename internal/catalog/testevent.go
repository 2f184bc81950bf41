package catalog

import (
	"encoding/json"
	"fmt"
	"time"
)

// testDataFormat is the data of a webhook.test event: a short call.received
// sample, valid against its schema, marked "test": true. The %[n]s verbs are
// timestamps from FormatTime, which need no JSON escaping.
const testDataFormat = `{"test":true,` +
	`"call_id":"call_test",` +
	`"direction":"inbound",` +
	`"from":{"number":"+14155550123","name":"Test Caller"},` +
	`"to":{"number":"+14155550100"},` +
	`"started_at":"%[1]s",` +
	`"ended_at":"%[4]s",` +
	`"duration_seconds":42,` +
	`"status":"completed",` +
	`"recording":null,` +
	`"transcript":[` +
	`{"speaker":"agent","at":"%[2]s","text":"Hello, this is a test call from hookd."},` +
	`{"speaker":"caller","at":"%[3]s","text":"Your webhook endpoint received it."}],` +
	`"summary":{"text":"A test event sent by hookd to check that your endpoint receives and accepts webhooks.",` +
	`"one_sentence":"hookd test event."},` +
	`"tags":["test"]}`

// TestData returns the `data` of a webhook.test event sent at now: a sample
// call summary in the shape of call.received data, ended at now, with
// "test": true so a receiver can tell it from a real call.
func TestData(now time.Time) json.RawMessage {
	end := now.UTC()
	start := end.Add(-42 * time.Second)
	return fmt.Appendf(nil, testDataFormat,
		FormatTime(start), FormatTime(start.Add(time.Second)), FormatTime(start.Add(5*time.Second)), FormatTime(end))
}
