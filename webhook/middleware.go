package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// Middleware returns a handler that verifies each request before passing it
// to next. It reads the body (at most MaxBodyBytes), verifies it with Verify
// and decodes it as an Envelope. On success next sees the request with its
// body restored and the envelope in its context (see EnvelopeFromContext).
// Otherwise it answers with a short plain-text reason and does not call next:
//
//   - 400 for missing or malformed webhook headers, an unreadable body or a
//     body that is not an event envelope;
//   - 401 for a timestamp outside the tolerance or no matching signature;
//   - 413 for a body larger than MaxBodyBytes.
//
// The reasons never quote keys, signatures or the body.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v.maxBodyBytes > 0 {
			r.Body = http.MaxBytesReader(w, r.Body, v.maxBodyBytes)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "could not read request body", http.StatusBadRequest)
			return
		}
		if err := v.Verify(r.Header, body); err != nil {
			status, reason := verifyErrorResponse(err)
			http.Error(w, reason, status)
			return
		}
		env, err := decodeEnvelope(body)
		if err != nil {
			http.Error(w, "request body is not a webhook event envelope", http.StatusBadRequest)
			return
		}

		r = r.WithContext(context.WithValue(r.Context(), envelopeKey{}, env))
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		next.ServeHTTP(w, r)
	})
}

// verifyErrorResponse maps a Verify error to a status and a fixed reason.
func verifyErrorResponse(err error) (int, string) {
	switch {
	case errors.Is(err, ErrMissingHeader):
		return http.StatusBadRequest, "missing " + HeaderID + ", " + HeaderTimestamp + " or " + HeaderSignature + " header"
	case errors.Is(err, ErrInvalidTimestamp):
		return http.StatusBadRequest, "malformed " + HeaderTimestamp + " header"
	case errors.Is(err, ErrInvalidHeader):
		return http.StatusBadRequest, "malformed " + HeaderSignature + " header"
	case errors.Is(err, ErrTooOld):
		return http.StatusUnauthorized, "webhook timestamp too old"
	case errors.Is(err, ErrTooNew):
		return http.StatusUnauthorized, "webhook timestamp too new"
	default:
		return http.StatusUnauthorized, "invalid webhook signature"
	}
}

// decodeEnvelope decodes a JSON event envelope, which must be an object
// with an id and an event type.
func decodeEnvelope(body []byte) (*Envelope, error) {
	var env Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	if env.ID == "" || env.Event == "" {
		return nil, errors.New("envelope without id or event")
	}
	return &env, nil
}
