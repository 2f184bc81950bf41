package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/version"
)

// maxLineBytes bounds one line of a --file: the largest event body hookd
// can be configured to take (--max-event-bytes).
const maxLineBytes = 64 << 20

// fileEvent is one line of a --file.
type fileEvent struct {
	AccountID      string          `json:"account_id"`
	Event          string          `json:"event"`
	Data           json.RawMessage `json:"data"`
	IdempotencyKey string          `json:"idempotency_key"`
}

// sendFile sends the events of a newline-delimited JSON file (blank lines
// skipped) in batches (POST /v1/events/batch), and prints each event's
// outcome with its line number. The whole file is read and checked for
// JSON first, so a file with a broken line sends nothing. A batch that
// fails as a whole stops the run; the batches before it were stored.
func sendFile(ctx context.Context, url, token, path string, batchSize int, env Env) error {
	if token == "" {
		return errors.New("--admin-token (or HOOKD_ADMIN_TOKEN) is required")
	}
	if batchSize < 1 || batchSize > client.MaxBatchEvents {
		return fmt.Errorf("--batch-size must be from 1 to %d", client.MaxBatchEvents)
	}
	var in io.Reader = env.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	events, lines, err := readEventLines(in)
	if err != nil {
		return err
	}
	if len(events) == 0 {
		return fmt.Errorf("%s holds no events", path)
	}
	c, err := client.New(url, token, client.WithUserAgent(version.UserAgent()))
	if err != nil {
		return err
	}
	var accepted, replayed, refused int
	for start := 0; start < len(events); start += batchSize {
		end := min(start+batchSize, len(events))
		res, err := c.SubmitEvents(ctx, events[start:end])
		if err != nil {
			var ce *client.Error
			if errors.As(err, &ce) {
				hint := ""
				if ce.Code == client.CodePayloadTooLarge {
					hint = "; a smaller --batch-size may fit"
				}
				err = fmt.Errorf("%s: %s%s", ce.Code, ce.Message, hint)
			}
			done := ""
			if start > 0 {
				done = fmt.Sprintf("; the events before line %d were sent (see above)", lines[start])
			}
			return fmt.Errorf("lines %d to %d: %w%s", lines[start], lines[end-1], err, done)
		}
		for i, r := range res {
			line := lines[start+i]
			switch {
			case r.Err != nil:
				refused++
				field := ""
				if r.Err.Field != "" {
					field = " (" + r.Err.Field + ")"
				}
				fmt.Fprintf(env.Stdout, "line %d: refused: %s%s: %s\n", line, r.Err.Code, field, r.Err.Message)
			case r.Result.Replayed:
				replayed++
				fmt.Fprintf(env.Stdout, "line %d: event %s already accepted (same idempotency key), %d deliveries\n",
					line, r.Result.ID, len(r.Result.Deliveries))
			default:
				accepted++
				fmt.Fprintf(env.Stdout, "line %d: event %s accepted, %d deliveries\n", line, r.Result.ID, len(r.Result.Deliveries))
			}
		}
	}
	fmt.Fprintf(env.Stdout, "%d events: %d accepted, %d already accepted, %d refused\n", len(events), accepted, replayed, refused)
	if refused > 0 {
		return fmt.Errorf("%d of %d events refused (see above)", refused, len(events))
	}
	return nil
}

// readEventLines reads one JSON object per line; lines[i] is the line
// number of events[i].
func readEventLines(r io.Reader) (events []client.SubmitEventParams, lines []int, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := readLine(br)
		if err == io.EOF && line == nil {
			return events, lines, nil
		}
		if err != nil && err != io.EOF {
			return nil, nil, fmt.Errorf("line %d: %w", n, err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var ev fileEvent
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ev); err != nil {
			return nil, nil, fmt.Errorf("line %d: not an event object (account_id, event, data, idempotency_key): %w", n, err)
		}
		if dec.More() {
			return nil, nil, fmt.Errorf("line %d: more than one JSON value; put each event on a line of its own", n)
		}
		events = append(events, client.SubmitEventParams{AccountID: ev.AccountID, Event: ev.Event, Data: ev.Data,
			IdempotencyKey: ev.IdempotencyKey})
		lines = append(lines, n)
	}
}

// readLine returns the next line without its end, at most maxLineBytes.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLineBytes {
			return nil, fmt.Errorf("longer than %d bytes", maxLineBytes)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(line) == 0:
			return nil, io.EOF
		case err != nil && err != io.EOF:
			return nil, err
		}
		return bytes.TrimRight(line, "\r\n"), nil
	}
}
