package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

const deliveryColumns = `id, event_id, endpoint_id, account_id, trigger, status, attempts, next_attempt_at,
	last_status_code, last_error, created_at, updated_at`

func scanDelivery(r interface{ Scan(...any) error }) (*hook.Delivery, error) {
	var (
		d                hook.Delivery
		next             sql.NullInt64
		code             sql.NullInt64
		lastErr          sql.NullString
		created, updated int64
	)
	if err := r.Scan(&d.ID, &d.EventID, &d.EndpointID, &d.AccountID, &d.Trigger, &d.Status, &d.Attempts, &next,
		&code, &lastErr, &created, &updated); err != nil {
		return nil, err
	}
	d.NextAttemptAt = fromNullMS(next)
	d.LastStatusCode = int(code.Int64)
	d.LastError = lastErr.String
	d.CreatedAt, d.UpdatedAt = fromMS(created), fromMS(updated)
	return &d, nil
}

func scanDeliveries(rows *sql.Rows) ([]*hook.Delivery, error) {
	defer rows.Close()
	var out []*hook.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeliveryGet implements store.Store.
func (s *Store) DeliveryGet(ctx context.Context, id string) (*hook.Delivery, error) {
	return scanDelivery(s.queryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`, id))
}

// DeliveryList implements store.Store.
func (s *Store) DeliveryList(ctx context.Context, p *store.DeliveryListParams) ([]*hook.Delivery, error) {
	cols, args := p.Where()
	where := make([]string, len(cols), len(cols)+1)
	for i, c := range cols {
		where[i] = c + " = ?"
	}
	if p.After != "" {
		where, args = append(where, "id < ?"), append(args, p.After)
	}
	q := `SELECT ` + deliveryColumns + ` FROM deliveries`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, p.Limit)
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return scanDeliveries(rows)
}

const attemptColumns = `id, delivery_id, number, trigger, started_at, duration_ms, status_code, error,
	response_body, request_headers`

// AttemptList implements store.Store.
func (s *Store) AttemptList(ctx context.Context, p *store.AttemptListParams) ([]*hook.Attempt, error) {
	rows, err := s.query(ctx, `SELECT `+attemptColumns+` FROM attempts WHERE delivery_id = ? AND number > ?
		ORDER BY number LIMIT ?`, p.DeliveryID, p.After, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	defer rows.Close()
	var out []*hook.Attempt
	for rows.Next() {
		var (
			a          hook.Attempt
			started    int64
			durationMS int64
			code       sql.NullInt64
			errText    sql.NullString
			headers    string
		)
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.Number, &a.Trigger, &started, &durationMS, &code, &errText,
			&a.ResponseBody, &headers); err != nil {
			return nil, err
		}
		a.StartedAt = fromMS(started)
		a.Duration = time.Duration(durationMS) * time.Millisecond
		a.StatusCode = int(code.Int64)
		a.Error = errText.String
		if err := json.Unmarshal([]byte(headers), &a.RequestHeaders); err != nil {
			return nil, fmt.Errorf("attempt %s headers: %w", a.ID, err)
		}
		out = append(out, &a)
	}
	return out, rows.Err()
}

// insertAttempt stores a, with its request headers already encoded; it
// reports false if an attempt with a's id was already stored.
func (w *wtx) insertAttempt(a *hook.Attempt, headers string) (bool, error) {
	res, err := w.exec(`INSERT OR IGNORE INTO attempts (`+attemptColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.DeliveryID, a.Number, a.Trigger, ms(a.StartedAt), a.Duration.Milliseconds(),
		nullInt(a.StatusCode), nullString(a.Error), a.ResponseBody, headers)
	if err != nil {
		return false, fmt.Errorf("insert attempt: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeliveryRedeliver implements store.Store.
func (s *Store) DeliveryRedeliver(ctx context.Context, p *store.DeliveryRedeliverParams) (*hook.Delivery, error) {
	var out *hook.Delivery
	err := s.write(ctx, wake, func(w *wtx) error {
		d, err := scanDelivery(w.queryRow(`SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`, p.DeliveryID))
		if err != nil {
			return err
		}
		e, err := w.endpointGet(d.EndpointID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		ep := hook.EndpointState{Found: e != nil}
		if e != nil {
			ep.Enabled = e.Enabled
		}
		if err := hook.RedeliverRefusal(d.Trigger, ep); err != nil {
			return err
		}
		var pending int
		if err := w.queryRow(`SELECT COUNT(*) FROM deliveries WHERE event_id = ? AND endpoint_id = ? AND status = 'pending'`,
			d.EventID, d.EndpointID).Scan(&pending); err != nil {
			return err
		}
		if pending > 0 {
			return hook.AlreadyPending()
		}
		out = hook.NewDelivery(d.EventID, d.AccountID, d.EndpointID, hook.TriggerRedeliver, p.Now)
		return w.insertDelivery(out, 0)
	})
	return out, err
}

// DeliveryRecover implements store.Store.
func (s *Store) DeliveryRecover(ctx context.Context, p *store.DeliveryRecoverParams) (int, error) {
	var n int
	err := s.write(ctx, wake, func(w *wtx) error {
		e, err := w.endpointGet(p.EndpointID)
		if err != nil {
			return err
		}
		if err := hook.RecoverRefusal(e.Enabled); err != nil {
			return err
		}
		q := `SELECT id FROM events ev WHERE account_id = ? AND created_at >= ? AND type <> 'webhook.test'`
		args := []any{e.AccountID, ms(p.Since)}
		if !slices.Contains(e.EventTypes, hook.AllEventTypes) {
			q += ` AND type IN (` + placeholders(len(e.EventTypes)) + `)`
			for _, t := range e.EventTypes {
				args = append(args, t)
			}
		}
		q += ` AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = ev.id AND d.endpoint_id = ?
			AND d.status IN ('succeeded', 'pending')) ORDER BY created_at, id`
		args = append(args, e.ID)
		// With a filter, the bodies are read too: the endpoint's current
		// filter decides.
		filtered := e.Filter != nil && p.Match != nil
		if filtered {
			q = strings.Replace(q, `SELECT id FROM`, `SELECT id, body FROM`, 1)
		}
		rows, err := w.s.wconn.QueryContext(w.ctx, q, args...)
		if err != nil {
			return fmt.Errorf("select events to recover: %w", err)
		}
		var ids []string
		for rows.Next() {
			var (
				id   string
				body []byte
			)
			dst := []any{&id}
			if filtered {
				dst = append(dst, &body)
			}
			if err := rows.Scan(dst...); err != nil {
				rows.Close()
				return err
			}
			if filtered && !p.Match(e.Filter, body) {
				continue
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, id := range ids {
			if err := w.insertDelivery(hook.NewDelivery(id, e.AccountID, e.ID, hook.TriggerRecover, p.Now), 0); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}

// TestRecord implements store.Store.
func (s *Store) TestRecord(ctx context.Context, p *store.TestRecordParams) error {
	return s.write(ctx, relaxed, func(w *wtx) error {
		ev := p.Event
		if _, err := w.exec(`INSERT INTO events (id, account_id, type, body, created_at) VALUES (?, ?, ?, ?, ?)`,
			ev.ID, ev.AccountID, ev.Type, ev.Body, ms(ev.CreatedAt)); err != nil {
			return fmt.Errorf("insert event: %w", err)
		}
		if err := w.insertDelivery(p.Delivery, 0); err != nil {
			return err
		}
		headers, err := marshalJSON(p.Attempt.RequestHeaders)
		if err != nil {
			return err
		}
		_, err = w.insertAttempt(p.Attempt, headers)
		return err
	})
}

// DeliveryClaim implements store.Store.
//
// It walks the due part of the queue index in order, skipping endpoints
// that are full (p.Full) and the endpoints of accounts that are full
// (p.FullAccounts) inside the query, and leases what p.Reserve accepts, so
// one endpoint or account with a deep backlog cannot fill a claim. A
// claimed delivery's next_attempt_at becomes the end of its lease: if the
// claimer dies, the delivery falls due again then.
func (s *Store) DeliveryClaim(ctx context.Context, p *store.DeliveryClaimParams) ([]*store.Claim, error) {
	// Most wake-ups find nothing due (new work was handed off): look on a
	// reader first and take the writer only when there is something.
	var due int
	if len(p.Full) == 0 && len(p.FullAccounts) == 0 {
		err := s.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ? LIMIT 1)`,
			ms(p.Now)).Scan(&due)
		if err != nil {
			return nil, fmt.Errorf("look for due deliveries: %w", err)
		}
	} else {
		skip, args := claimSkip(p)
		err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?`+
			skip+` LIMIT 1)`, append([]any{ms(p.Now)}, args...)...).Scan(&due)
		if err != nil {
			return nil, fmt.Errorf("look for due deliveries: %w", err)
		}
	}
	if due == 0 {
		return nil, nil
	}
	var out []*store.Claim
	err := s.write(ctx, relaxed, func(w *wtx) error {
		out = nil
		cands, err := w.claimCandidates(p)
		if err != nil {
			return err
		}
		if len(cands) == 0 {
			return nil
		}
		// Pick what to lease, then lease and read it all in two
		// statements, whatever the batch size.
		var (
			chosen    []candidate
			endpoints = map[string]*hook.Endpoint{}
			rates     = rateSlots{w: w, now: p.Now}
		)
		for _, c := range cands {
			if len(chosen) >= p.Limit {
				break
			}
			e, err := w.cachedEndpoint(c.endpointID)
			if err != nil {
				return err
			}
			if e == nil || !e.Enabled {
				continue // canceled with the disable; not claimable
			}
			if e.RateLimit > 0 {
				take, err := rates.admit(c.id, e)
				if err != nil {
					return err
				}
				if !take {
					continue // given a later slot
				}
			}
			if p.Reserve != nil && !p.Reserve(c.endpointID, e.AccountID) {
				continue
			}
			if e.RateLimit > 0 {
				rates.take(c.id, e)
			}
			endpoints[c.endpointID] = e
			chosen = append(chosen, c)
		}
		if err := rates.save(); err != nil {
			return err
		}
		if len(chosen) == 0 {
			return nil
		}
		ids := idList(chosen)
		lease := newLease()
		if _, err := w.exec(`UPDATE deliveries SET lease = ?, next_attempt_at = ?, rate_slot = 0 WHERE id IN (SELECT value FROM json_each(?))`,
			lease, ms(p.LeaseUntil), ids); err != nil {
			return fmt.Errorf("lease deliveries: %w", err)
		}
		rows, err := w.query(`SELECT `+prefixed("d.", deliveryColumns)+`, e.body FROM json_each(?) j
			JOIN deliveries d ON d.id = j.value JOIN events e ON e.id = d.event_id ORDER BY j.key`, ids)
		if err != nil {
			return fmt.Errorf("read leased deliveries: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			cl := &store.Claim{Lease: lease}
			d, err := scanDelivery(bodyScanner{rows, &cl.Body})
			if err != nil {
				return err
			}
			e := endpoints[d.EndpointID]
			cl.Delivery, cl.URL, cl.Keys, cl.Headers = d, e.URL, hook.LiveKeys(e.Keys, p.Now), e.Headers
			out = append(out, cl)
		}
		return rows.Err()
	})
	return out, err
}

// rateSlots applies endpoints' rate limits within one claim (see
// store.Store.DeliveryClaim). The single writer makes the read and the
// write of each endpoint's state atomic. Times are Unix microseconds.
type rateSlots struct {
	w     *wtx
	now   time.Time
	state map[string]*rateState
	held  map[string]bool // delivery id → held a turn when admitted
}

// rateState is one endpoint's rate-limit state: tail is the turn after
// the last one handed out (queue order), bucket the earliest time the
// next delivery may start (start spacing), given when a delivery starts.
type rateState struct {
	tail, bucket int64
	refused      int64 // the last time a waiting delivery was given in this claim
}

// interval is the time between two turns of an endpoint, in µs.
func interval(e *hook.Endpoint) int64 { return max(1, 1_000_000/int64(e.RateLimit)) }

// rateBurst is how far the start bucket may lag behind now: after a pause
// (a busy node, a stalled claim), at most this much of turns start at
// once, not every turn that fell due meanwhile.
const rateBurst = 20_000 // µs

func (r *rateSlots) get(e *hook.Endpoint) (*rateState, error) {
	if r.state == nil {
		r.state, r.held = map[string]*rateState{}, map[string]bool{}
	}
	st, ok := r.state[e.ID]
	if !ok {
		st = &rateState{}
		if err := r.w.queryRow(`SELECT rate_next, rate_bucket FROM endpoints WHERE id = ?`, e.ID).Scan(&st.tail, &st.bucket); err != nil {
			return nil, fmt.Errorf("read endpoint rate state: %w", err)
		}
		r.state[e.ID] = st
	}
	return st, nil
}

// postpone makes a delivery wait for its turn at (µs), holding it.
func (r *rateSlots) postpone(id string, at int64) error {
	// Rounded up to the column's milliseconds.
	if _, err := r.w.exec(`UPDATE deliveries SET next_attempt_at = ?, rate_slot = 1 WHERE id = ?`, (at+999)/1000, id); err != nil {
		return fmt.Errorf("postpone delivery to its rate-limit turn: %w", err)
	}
	return nil
}

// admit reports whether a due delivery to e may start now. One that holds
// no turn while others wait for theirs is given the turn after them. Any
// delivery starts only if the endpoint's start bucket allows; one that
// may not waits for the bucket's next time, keeping its turn.
func (r *rateSlots) admit(id string, e *hook.Endpoint) (bool, error) {
	st, err := r.get(e)
	if err != nil {
		return false, err
	}
	var held bool
	if err := r.w.queryRow(`SELECT rate_slot FROM deliveries WHERE id = ?`, id).Scan(&held); err != nil {
		return false, fmt.Errorf("read delivery turn: %w", err)
	}
	now, step := r.now.UnixMicro(), interval(e)
	if !held && st.tail > now {
		at := st.tail
		st.tail += step
		return false, r.postpone(id, at)
	}
	b := max(st.bucket, now-rateBurst)
	if b > now {
		at := max(b, st.refused+step)
		st.refused = at
		st.tail = max(st.tail, at+step)
		return false, r.postpone(id, at)
	}
	r.held[id] = held
	return true, nil
}

// take starts a delivery admitted (and reserved): the bucket moves on by
// one interval, and a delivery that held no turn takes the current one.
func (r *rateSlots) take(id string, e *hook.Endpoint) {
	st := r.state[e.ID]
	now, step := r.now.UnixMicro(), interval(e)
	st.bucket = max(st.bucket, now-rateBurst) + step
	if !r.held[id] {
		st.tail = max(st.tail, now) + step
	}
}

// save writes the endpoints' rate state back.
func (r *rateSlots) save() error {
	for id, st := range r.state {
		if _, err := r.w.exec(`UPDATE endpoints SET rate_next = ?, rate_bucket = ? WHERE id = ?`, st.tail, st.bucket, id); err != nil {
			return fmt.Errorf("update endpoint rate state: %w", err)
		}
	}
	return nil
}

// bodyScanner scans a delivery row followed by one more column.
type bodyScanner struct {
	rows *sql.Rows
	body *[]byte
}

func (b bodyScanner) Scan(dst ...any) error { return b.rows.Scan(append(dst, b.body)...) }

// idList is the JSON array of the candidates' ids, for json_each.
func idList(cs []candidate) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, c := range cs {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('"')
		sb.WriteString(c.id) // ids are plain ASCII
		sb.WriteByte('"')
	}
	sb.WriteByte(']')
	return sb.String()
}

// prefixed qualifies each column of a comma-separated list.
func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		parts[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

type candidate struct{ id, endpointID string }

// claimSkip is the condition, and its arguments, that leaves out the due
// deliveries of full endpoints and full accounts. An account's endpoints
// are looked up once per statement (endpoints_account), so the walk of
// deliveries_due stays on the index: it never reads a skipped row.
func claimSkip(p *store.DeliveryClaimParams) (string, []any) {
	var (
		q    string
		args []any
	)
	if len(p.Full) > 0 {
		q += ` AND endpoint_id NOT IN (` + placeholders(len(p.Full)) + `)`
		for _, id := range p.Full {
			args = append(args, id)
		}
	}
	if len(p.FullAccounts) > 0 {
		q += ` AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE account_id IN (` + placeholders(len(p.FullAccounts)) +
			`) AND deleted_at IS NULL)`
		for _, id := range p.FullAccounts {
			args = append(args, id)
		}
	}
	return q, args
}

// claimCandidates reads due deliveries in queue order, a few more than
// asked for so that per-endpoint and per-account capacity can be applied.
func (w *wtx) claimCandidates(p *store.DeliveryClaimParams) ([]candidate, error) {
	skip, skipArgs := claimSkip(p)
	q := `SELECT id, endpoint_id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?` + skip +
		` ORDER BY next_attempt_at LIMIT ?`
	args := append(append([]any{ms(p.Now)}, skipArgs...), 2*p.Limit)
	var (
		rows *sql.Rows
		err  error
	)
	if skip == "" {
		rows, err = w.query(q, args...) // the common case: one prepared statement
	} else {
		rows, err = w.s.wconn.QueryContext(w.ctx, q, args...)
	}
	if err != nil {
		return nil, fmt.Errorf("select due deliveries: %w", err)
	}
	defer rows.Close()
	var out []candidate
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.id, &c.endpointID); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeliveryComplete implements store.Store.
//
// The common case takes two statements per result: an update that only
// succeeds if the caller still holds the delivery (then the transition
// decided in advance applies), and the attempt's insert. Anything else
// (a lost lease, a canceled delivery, a result sent again) reads the
// delivery and decides from what it finds.
func (s *Store) DeliveryComplete(ctx context.Context, p *store.DeliveryCompleteParams) (*store.DeliveryCompleteResult, error) {
	// Encode outside the writer what does not need it.
	headers := make([]string, len(p.Results))
	for i, r := range p.Results {
		var err error
		if headers[i], err = marshalJSON(r.Attempt.RequestHeaders); err != nil {
			return nil, err
		}
	}
	var out *store.DeliveryCompleteResult
	// Does not wake the dispatcher: the results come from it, and it
	// looks again itself when one of them scheduled a retry
	// (Dispatcher.recordFinished).
	err := s.write(ctx, relaxed, func(w *wtx) error {
		out = &store.DeliveryCompleteResult{}
		c := completion{w: w, p: p, out: out, endpoints: make(map[string]*endpointState)}
		for i, r := range p.Results {
			if err := c.one(r, headers[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// endpointState is an endpoint as a batch of results changes it.
type endpointState struct {
	e        *hook.Endpoint // nil: deleted
	failures int
}

// completion records one batch of results.
type completion struct {
	w         *wtx
	p         *store.DeliveryCompleteParams
	out       *store.DeliveryCompleteResult
	endpoints map[string]*endpointState
}

func (c *completion) endpoint(id string) (*endpointState, error) {
	if st, ok := c.endpoints[id]; ok {
		return st, nil
	}
	st := &endpointState{}
	var err error
	if st.e, err = c.w.cachedEndpoint(id); err != nil {
		return nil, err
	}
	if st.e != nil {
		if err := c.w.queryRow(`SELECT consecutive_failures FROM endpoints WHERE id = ?`, id).Scan(&st.failures); err != nil {
			return nil, fmt.Errorf("read endpoint: %w", err)
		}
	}
	c.endpoints[id] = st
	return st, nil
}

func (st *endpointState) decide(ds hook.DeliveryState, r *hook.Result, disableAfter int) hook.Transition {
	es := hook.EndpointState{Found: st.e != nil, ConsecutiveFailures: st.failures}
	if st.e != nil {
		es.Enabled = st.e.Enabled
	}
	return hook.Decide(ds, es, *r, disableAfter)
}

// nextAttempt is the next_attempt_at a transition writes.
func nextAttempt(t hook.Transition) any { return nullMS(t.NextAttemptAt) }

func (c *completion) one(r *hook.Result, headers string) error {
	w, p := c.w, c.p
	a := r.Attempt
	a.DeliveryID = r.DeliveryID
	var st *endpointState
	var t hook.Transition
	owned := false
	if r.EndpointID != "" {
		var err error
		if st, err = c.endpoint(r.EndpointID); err != nil {
			return err
		}
		// Decided as if the caller still holds the delivery; the update
		// applies only if it does.
		t = st.decide(hook.DeliveryState{Status: hook.StatusPending, Lease: r.Lease}, r, p.DisableAfter)
		err = w.queryRow(`UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, lease = 0,
			last_status_code = ?, last_error = ?, updated_at = ? WHERE id = ? AND lease = ? AND status = 'pending'
			RETURNING attempts`, t.Status, nextAttempt(t), nullInt(t.LastStatusCode), nullString(t.LastError), ms(p.Now),
			r.DeliveryID, r.Lease).Scan(&a.Number)
		switch {
		case err == nil:
			owned = true
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("update delivery: %w", err)
		}
	}
	if owned {
		if _, err := w.insertAttempt(&a, headers); err != nil {
			return err
		}
	} else {
		var (
			ds         hook.DeliveryState
			attempts   int
			endpointID string
		)
		err := w.queryRow(`SELECT status, lease, attempts, endpoint_id FROM deliveries WHERE id = ?`, r.DeliveryID).
			Scan(&ds.Status, &ds.Lease, &attempts, &endpointID)
		if errors.Is(err, store.ErrNotFound) {
			return nil // pruned meanwhile: nothing to record against
		}
		if err != nil {
			return fmt.Errorf("read delivery: %w", err)
		}
		if st, err = c.endpoint(endpointID); err != nil {
			return err
		}
		t = st.decide(ds, r, p.DisableAfter)
		a.Number = attempts + 1
		if recorded, err := w.insertAttempt(&a, headers); err != nil {
			return err
		} else if !recorded {
			return nil // this result was recorded before
		}
		if t.KeepLastError {
			_, err = w.exec(`UPDATE deliveries SET attempts = attempts + 1, updated_at = ? WHERE id = ?`, ms(p.Now), r.DeliveryID)
		} else {
			_, err = w.exec(`UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, lease = 0,
				last_status_code = ?, last_error = ?, updated_at = ? WHERE id = ?`,
				t.Status, nextAttempt(t), nullInt(t.LastStatusCode), nullString(t.LastError), ms(p.Now), r.DeliveryID)
		}
		if err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
	}
	return c.endpointEffects(st, t)
}

// endpointEffects applies a transition to the endpoint: its failure count
// and an automatic disable.
func (c *completion) endpointEffects(st *endpointState, t hook.Transition) error {
	w, p := c.w, c.p
	e := st.e
	if e == nil {
		return nil
	}
	if t.SetFailures {
		st.failures = t.Failures
		if _, err := w.exec(`UPDATE endpoints SET consecutive_failures = ? WHERE id = ?`, t.Failures, e.ID); err != nil {
			return fmt.Errorf("update endpoint: %w", err)
		}
	}
	if t.Disable != "" {
		e.ConsecutiveFailures = st.failures
		m := hook.AutoDisable(e, t.Disable, p.Now, p.OperatorEvents)
		if err := w.disable(e); err != nil {
			return err
		}
		if m != nil {
			if err := w.operatorEnqueue(*m); err != nil {
				return err
			}
		}
		c.out.Disabled = append(c.out.Disabled, store.DisabledEndpoint{EndpointID: e.ID, AccountID: e.AccountID, Reason: t.Disable})
	}
	return nil
}

// DeliveryRelease implements store.Store.
func (s *Store) DeliveryRelease(ctx context.Context, p *store.ReleaseParams) error {
	return s.write(ctx, wake, func(w *wtx) error {
		for i, id := range p.DeliveryIDs {
			if _, err := w.exec(`UPDATE deliveries SET lease = 0, next_attempt_at = ? WHERE id = ? AND lease = ? AND status = 'pending'`,
				ms(p.Now), id, p.Leases[i]); err != nil {
				return fmt.Errorf("release delivery: %w", err)
			}
		}
		return nil
	})
}

// DeliveryNextDue implements store.Store.
func (s *Store) DeliveryNextDue(ctx context.Context, after time.Time) (time.Time, bool, error) {
	var next sql.NullInt64
	err := s.queryRow(ctx, `SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending' AND next_attempt_at > ?`,
		ms(after)).Scan(&next)
	if err != nil {
		return time.Time{}, false, err
	}
	var opNext sql.NullInt64
	if err := s.queryRow(ctx, `SELECT MIN(next_attempt_at) FROM operator_messages WHERE status = 'pending' AND next_attempt_at > ?`,
		ms(after)).Scan(&opNext); err != nil {
		return time.Time{}, false, err
	}
	switch {
	case next.Valid && opNext.Valid:
		return fromMS(min(next.Int64, opNext.Int64)), true, nil
	case next.Valid:
		return fromMS(next.Int64), true, nil
	case opNext.Valid:
		return fromMS(opNext.Int64), true, nil
	}
	return time.Time{}, false, nil
}

// newLease returns a claim's lease: random, never 0 (0 is "not leased").
func newLease() int64 { return rand.Int64N(1<<62) + 1 }

// placeholders returns "?, ?, …" for n parameters.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// scanIDs reads the one text column of rows and closes them.
func scanIDs(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, errors.Join(rows.Err(), rows.Close())
}

// DeliveryRateLimited implements store.Store.
func (s *Store) DeliveryRateLimited(ctx context.Context) (int, error) {
	var n int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM deliveries WHERE status = 'pending' AND rate_slot = 1`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rate-limited deliveries: %w", err)
	}
	return n, nil
}
