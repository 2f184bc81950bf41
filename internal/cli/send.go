package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/internal/version"
)

func runSend(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("hookd send", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	url := fs.String("url", "http://localhost:8080", "hookd's API address (env HOOKD_URL)")
	token := fs.String("admin-token", "", "the admin token (env HOOKD_ADMIN_TOKEN)")
	account := fs.String("account", "", "the account the event is for (acc_…)")
	event := fs.String("event", "", "event type: call.received or sms.received")
	dataFile := fs.String("data", "", "file with the event's data as JSON, - for standard input; default: the catalogue's example")
	key := fs.String("idempotency-key", "", "send it again with the same key and no second event is made")
	file := fs.String("file", "", "send the events of this file instead, one JSON object per line (account_id, event, data, idempotency_key), - for standard input")
	batch := fs.Int("batch-size", client.MaxBatchEvents, "with --file: events per request, 1 to 500")
	if err := parseCommand(fs, "hookd send --account acc_… --event TYPE [flags]\n       hookd send --file events.ndjson [flags]", args, env, ""); err != nil {
		return err
	}
	if *file != "" {
		if *account != "" || *event != "" || *dataFile != "" || *key != "" {
			return errors.New("--file takes each event's account, type, data and key from the file; leave out --account, --event, --data and --idempotency-key")
		}
		return sendFile(ctx, *url, *token, *file, *batch, env)
	}
	switch {
	case *account == "":
		return errors.New("--account acc_… is required")
	case *event == "":
		return errors.New("--event is required (call.received or sms.received)")
	case *token == "":
		return errors.New("--admin-token (or HOOKD_ADMIN_TOKEN) is required")
	}
	c, err := client.New(*url, *token, client.WithUserAgent(version.UserAgent()))
	if err != nil {
		return err
	}
	var data json.RawMessage
	switch *dataFile {
	case "":
		types, err := c.EventTypes(ctx)
		if err != nil {
			return err
		}
		known := make([]string, 0, len(types))
		for _, t := range types {
			known = append(known, t.Event)
			if t.Event == *event {
				data = t.Example
			}
		}
		if data == nil {
			return fmt.Errorf("unknown event type %q; the known ones are %s", *event, strings.Join(known, ", "))
		}
	case "-":
		if data, err = io.ReadAll(io.LimitReader(env.Stdin, 64<<20)); err != nil {
			return err
		}
	default:
		if data, err = os.ReadFile(*dataFile); err != nil {
			return err
		}
	}
	res, err := c.SubmitEvent(ctx, client.SubmitEventParams{AccountID: *account, Event: *event, Data: data, IdempotencyKey: *key})
	if err != nil {
		var ce *client.Error
		switch {
		case errors.As(err, &ce) && ce.Field != "":
			return fmt.Errorf("%s (%s): %s", ce.Code, ce.Field, ce.Message)
		case errors.As(err, &ce):
			return fmt.Errorf("%s: %s", ce.Code, ce.Message)
		}
		return err
	}
	verb := "accepted"
	if res.Replayed {
		verb = "already accepted (same idempotency key)"
	}
	fmt.Fprintf(env.Stdout, "event %s %s, %d deliveries\n", res.ID, verb, len(res.Deliveries))
	for _, d := range res.Deliveries {
		fmt.Fprintf(env.Stdout, "  delivery %s → endpoint %s\n", d.ID, d.EndpointID)
	}
	return nil
}
