// Package client is the Go client of hookd's HTTP API: producers submit
// events with it, apps manage endpoints and look at deliveries, and the
// "hookd send" command and hookd's end-to-end tests drive the server
// through it. It uses the standard library only.
//
// # Usage
//
// A Client is made for one server and one token, the admin token or an
// account token, and is safe for concurrent use:
//
//	c, err := client.New("https://hooks.example.com", os.Getenv("HOOKD_TOKEN"))
//	if err != nil {
//		return err
//	}
//
//	// Producer (admin token): submit an event.
//	res, err := c.SubmitEvent(ctx, client.SubmitEventParams{
//		AccountID:      "acc_01JD…",
//		Event:          "sms.received",
//		Data:           json.RawMessage(data),
//		IdempotencyKey: "sms-4711",
//	})
//
//	// Account owner (account token): add an endpoint, test it.
//	ep, err := c.CreateEndpoint(ctx, client.CreateEndpointParams{
//		URL:        "https://example.com/webhooks",
//		EventTypes: []string{"call.received", "sms.received"},
//	})
//	// ep.Secret ("whsec_…") verifies the signatures; keep it safe.
//	t, err := c.TestEndpoint(ctx, ep.ID)
//	if err == nil && !t.OK {
//		fmt.Println(t.Hint)
//	}
//
//	// Look at the failed deliveries, all pages of them.
//	for d, err := range c.AllDeliveries(ctx, client.DeliveryListParams{EndpointID: ep.ID, Status: "failed"}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(d.ID, *d.LastError)
//	}
//
// # Errors
//
// Every answer with a status other than 2xx is returned as an *Error that
// carries hookd's stable error code, such as CodeNotFound or
// CodeInvalidURL, and the field at fault. Use ErrorCode to branch on it:
//
//	_, err := c.Redeliver(ctx, id)
//	switch client.ErrorCode(err) {
//	case "":
//		// nil, or no answer: a network error or a canceled context
//	case client.CodeEndpointDisabled:
//		// re-enable the endpoint first
//	}
//
// Other errors (network failures, an ended context) are returned wrapped,
// so errors.Is(err, context.Canceled) works. No error contains the token.
//
// # Lists
//
// List methods return one Page; pass its NextCursor back in ListParams for
// the next. AllDeliveries and AllEndpoints walk every page for you.
package client
