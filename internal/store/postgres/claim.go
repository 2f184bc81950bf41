package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// DeliveryClaim implements store.Store.
//
// One transaction of two round trips. The first reads up to 2×Limit due
// deliveries of enabled endpoints in queue order, skipping the full
// endpoints (p.Full) and the deliveries of full accounts (p.FullAccounts)
// in the query and locking them FOR UPDATE SKIP LOCKED, so that claimers
// on other nodes pass over them instead of waiting. Go keeps those
// p.Reserve accepts (once an endpoint is refused, its other rows are not
// offered), so one endpoint or account with a deep backlog cannot fill a
// claim. The second leases the kept rows and returns them with their
// event's body and their endpoint's URL and keys; the rows not kept are
// unlocked at commit. The transaction is not run again once a delivery is
// reserved: a failed claim voids its reservations. A leased delivery's
// next_attempt_at is the end of its lease: if the claimer dies, the
// delivery falls due again then.
func (s *Store) DeliveryClaim(ctx context.Context, p *store.DeliveryClaimParams) ([]*store.Claim, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	// Most wake-ups find nothing due (new work is mostly handed off):
	// look with one plain query before starting a transaction.
	var due bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries
		WHERE status = 'pending' AND next_attempt_at <= $1 AND endpoint_id <> ALL ($2) AND account_id <> ALL ($3))`,
		ms(p.Now), strs(p.Full), strs(p.FullAccounts)).Scan(&due); err != nil {
		return nil, fmt.Errorf("look for due deliveries: %w", err)
	}
	if !due {
		return nil, nil
	}
	type leased struct {
		d       *hook.Delivery
		body    []byte
		url     string
		keys    []byte
		headers []byte
	}
	var (
		picked []string
		rows   map[string]*leased
		lease  = newLease()
	)
	err := s.tx(ctx, true, func(t *txn) error {
		picked, rows = nil, nil
		type candidate struct {
			id, endpointID, accountID string
			rateLimit                 int  // the endpoint's; 0: none
			slotted                   bool // holds a rate-limit slot
		}
		var cands []candidate
		// The endpoint check is a subquery per row, not a join, so that the
		// plan stays a walk of the queue index in order that stops at the
		// limit, however deep the backlog.
		t.queue(`SELECT d.id, d.endpoint_id, d.account_id, d.rate_slot,
				(SELECT e.rate_limit FROM endpoints e WHERE e.id = d.endpoint_id) FROM deliveries d
			WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND d.endpoint_id <> ALL ($2) AND d.account_id <> ALL ($3)
			AND (SELECT e.enabled AND e.deleted_at IS NULL FROM endpoints e WHERE e.id = d.endpoint_id)
			ORDER BY d.next_attempt_at LIMIT $4
			FOR UPDATE OF d SKIP LOCKED`, ms(p.Now), strs(p.Full), strs(p.FullAccounts), 2*p.Limit).Query(func(r pgx.Rows) error {
			for r.Next() {
				var c candidate
				if err := r.Scan(&c.id, &c.endpointID, &c.accountID, &c.slotted, &c.rateLimit); err != nil {
					return err
				}
				cands = append(cands, c)
			}
			return r.Err()
		})
		if err := t.flush(); err != nil {
			return err
		}
		// Rate-limited endpoints: lock their next slots (in id order), so
		// that claims on all nodes take slots one after the other.
		var limited []string
		for _, c := range cands {
			if c.rateLimit > 0 && !slices.Contains(limited, c.endpointID) {
				limited = append(limited, c.endpointID)
			}
		}
		type rateState struct{ tail, bucket, refused time.Time }
		slots := make(map[string]*rateState, len(limited))
		if len(limited) > 0 {
			slices.Sort(limited)
			t.queue(`INSERT INTO endpoint_rate_slots (endpoint_id, next) SELECT u.id, 'epoch' FROM unnest($1::text[]) AS u (id)
				ON CONFLICT DO NOTHING`, limited)
			t.queue(`SELECT endpoint_id, next, bucket FROM endpoint_rate_slots WHERE endpoint_id = ANY ($1) ORDER BY endpoint_id FOR UPDATE`,
				limited).Query(func(r pgx.Rows) error {
				for r.Next() {
					var (
						id string
						st rateState
					)
					if err := r.Scan(&id, &st.tail, &st.bucket); err != nil {
						return err
					}
					slots[id] = &st
				}
				return r.Err()
			})
			if err := t.flush(); err != nil {
				return err
			}
		}
		var (
			postponed   []string
			postponedTo []time.Time
		)
		wait := func(id string, at time.Time) {
			postponed, postponedTo = append(postponed, id), append(postponedTo, at)
		}
		refused := make(map[string]bool) // endpoints at their limit
		for _, c := range cands {
			if len(picked) >= p.Limit {
				break
			}
			if refused[c.endpointID] {
				continue
			}
			var (
				st   *rateState
				step time.Duration
			)
			if c.rateLimit > 0 {
				// A turn for one that holds none while others wait for
				// theirs; and a start only when the endpoint's start bucket
				// allows (see store.Store.DeliveryClaim and rateBurst).
				st, step = slots[c.endpointID], max(time.Microsecond, time.Second/time.Duration(c.rateLimit))
				if !c.slotted && st.tail.After(p.Now) {
					wait(c.id, st.tail)
					st.tail = st.tail.Add(step)
					continue
				}
				if b := later(st.bucket, p.Now.Add(-rateBurst)); b.After(p.Now) {
					at := later(b, st.refused.Add(step))
					st.refused, st.tail = at, later(st.tail, at.Add(step))
					wait(c.id, at)
					continue
				}
			}
			if !t.reserve(p.Reserve, c.endpointID, c.accountID) {
				refused[c.endpointID] = true
				continue
			}
			if st != nil {
				st.bucket = later(st.bucket, p.Now.Add(-rateBurst)).Add(step)
				if !c.slotted {
					st.tail = later(st.tail, p.Now).Add(step)
				}
			}
			picked = append(picked, c.id)
		}
		if len(postponed) > 0 {
			t.queue(`UPDATE deliveries d SET next_attempt_at = u.at, rate_slot = true
				FROM unnest($1::text[], $2::timestamptz[]) AS u (id, at) WHERE d.id = u.id`, postponed, postponedTo)
		}
		if len(limited) > 0 {
			tails, buckets := make([]time.Time, len(limited)), make([]time.Time, len(limited))
			for i, id := range limited {
				tails[i], buckets[i] = slots[id].tail, slots[id].bucket
			}
			t.queue(`UPDATE endpoint_rate_slots s SET next = u.next, bucket = u.bucket
				FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS u (id, next, bucket)
				WHERE s.endpoint_id = u.id`, limited, tails, buckets)
		}
		if len(picked) == 0 {
			return nil
		}
		rows = make(map[string]*leased, len(picked))
		// The last batch: the callback only collects (see txn).
		t.queue(`UPDATE deliveries d SET lease = $1, next_attempt_at = $2, rate_slot = false
			FROM unnest($3::text[]) AS u (id) WHERE d.id = u.id
			RETURNING d.id, d.event_id, d.endpoint_id, d.account_id, d.trigger, d.status, d.attempts, d.next_attempt_at,
				COALESCE(d.last_status_code, 0), COALESCE(d.last_error, ''), d.created_at, d.updated_at,
				(SELECT body FROM events WHERE id = d.event_id),
				(SELECT url FROM endpoints WHERE id = d.endpoint_id),
				(SELECT keys FROM endpoints WHERE id = d.endpoint_id),
				(SELECT headers FROM endpoints WHERE id = d.endpoint_id)`, lease, ms(p.LeaseUntil), picked).Query(func(r pgx.Rows) error {
			for r.Next() {
				var (
					l    leased
					next pgtype.Timestamptz
				)
				d := &hook.Delivery{}
				var url *string
				if err := r.Scan(&d.ID, &d.EventID, &d.EndpointID, &d.AccountID, &d.Trigger, &d.Status, &d.Attempts, &next,
					&d.LastStatusCode, &d.LastError, &d.CreatedAt, &d.UpdatedAt, &l.body, &url, &l.keys, &l.headers); err != nil {
					return err
				}
				if l.body == nil || url == nil {
					continue // its event or endpoint is gone: see below
				}
				l.url = *url
				d.NextAttemptAt = fromNull(next)
				d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
				l.d = d
				rows[d.ID] = &l
			}
			return r.Err()
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	out := make([]*store.Claim, 0, len(picked))
	for _, id := range picked {
		l, ok := rows[id]
		if !ok {
			// Its event or endpoint row is gone, which Prune and
			// soft deletes do not allow: the reservation would be unmatched.
			return nil, fmt.Errorf("claim deliveries: delivery %s vanished while locked", id)
		}
		var keys []hook.Key
		if err := json.Unmarshal(l.keys, &keys); err != nil {
			// Leased, and never attempted: its lease runs out.
			return nil, fmt.Errorf("claim deliveries: endpoint %s keys: %w", l.d.EndpointID, err)
		}
		var headers []hook.Header
		if err := unmarshalHeaders(l.headers, &headers); err != nil {
			return nil, fmt.Errorf("claim deliveries: endpoint %s headers: %w", l.d.EndpointID, err)
		}
		out = append(out, &store.Claim{Delivery: l.d, Lease: lease, Body: l.body, URL: l.url, Keys: hook.LiveKeys(keys, p.Now),
			Headers: headers})
	}
	return out, nil
}

// rateBurst is how far an endpoint's start bucket may lag behind now:
// after a pause (a busy node, a stalled claim), at most this much of
// turns start at once, not every turn that fell due meanwhile.
const rateBurst = 20 * time.Millisecond

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// pendingDelivery is a delivery of a result batch as DeliveryComplete
// reads, changes and writes it back.
type pendingDelivery struct {
	endpointID string
	status     string
	lease      int64
	attempts   int
	next       time.Time // zero: NULL
	code       int       // 0: NULL
	lastErr    string    // "": NULL
	changed    bool
}

// resultEndpoint is an endpoint of a result batch.
type resultEndpoint struct {
	e           *hook.Endpoint // nil if deleted
	setFailures bool
}

// DeliveryComplete implements store.Store.
//
// One transaction of two round trips. The first locks the endpoints of the
// results (FOR NO KEY UPDATE, in id order) and then their deliveries (FOR
// UPDATE, in id order) and reads their state, and finds the attempts that
// are already recorded (a retry of a batch whose commit was reported
// lost). Go applies hook.Decide to each result in order, as the SQLite
// backend does one by one, and the second round trip writes the outcome
// with one statement per table.
//
// The endpoint locks make nodes count consecutive failures one batch after
// the other. Disabling an endpoint upgrades its lock to FOR UPDATE before
// the pending deliveries are canceled (see createEvent).
func (s *Store) DeliveryComplete(ctx context.Context, p *store.DeliveryCompleteParams) (*store.DeliveryCompleteResult, error) {
	if len(p.Results) == 0 {
		return &store.DeliveryCompleteResult{}, nil
	}
	var out *store.DeliveryCompleteResult
	var disabled bool
	ids := make([]string, 0, len(p.Results))
	attemptIDs := make([]string, 0, len(p.Results))
	for _, r := range p.Results {
		ids = append(ids, r.DeliveryID)
		attemptIDs = append(attemptIDs, r.Attempt.ID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	now := ms(p.Now)
	err := s.tx(ctx, true, func(t *txn) error {
		out, disabled = &store.DeliveryCompleteResult{}, false
		endpoints := make(map[string]*resultEndpoint)
		deliveries := make(map[string]*pendingDelivery, len(ids))
		recorded := make(map[string]bool)
		t.queue(`SELECT id, account_id, url, enabled, COALESCE(disabled_reason, ''), disabled_at, consecutive_failures,
				deleted_at IS NOT NULL
			FROM endpoints WHERE id IN (SELECT d.endpoint_id FROM unnest($1::text[]) AS u (id) JOIN deliveries d ON d.id = u.id)
			ORDER BY id FOR NO KEY UPDATE`, ids).Query(func(r pgx.Rows) error {
			for r.Next() {
				var (
					e          hook.Endpoint
					disabledAt pgtype.Timestamptz
					deleted    bool
				)
				if err := r.Scan(&e.ID, &e.AccountID, &e.URL, &e.Enabled, &e.DisabledReason, &disabledAt,
					&e.ConsecutiveFailures, &deleted); err != nil {
					return err
				}
				e.DisabledAt = fromNull(disabledAt)
				re := &resultEndpoint{}
				if !deleted {
					re.e = &e
				}
				endpoints[e.ID] = re
			}
			return r.Err()
		})
		t.queue(`SELECT id, endpoint_id, status, lease, attempts, next_attempt_at, COALESCE(last_status_code, 0),
				COALESCE(last_error, '')
			FROM deliveries WHERE id = ANY ($1) ORDER BY id FOR UPDATE`, ids).Query(func(r pgx.Rows) error {
			for r.Next() {
				var (
					id   string
					d    pendingDelivery
					next pgtype.Timestamptz
				)
				if err := r.Scan(&id, &d.endpointID, &d.status, &d.lease, &d.attempts, &next, &d.code, &d.lastErr); err != nil {
					return err
				}
				d.next = fromNull(next)
				deliveries[id] = &d
			}
			return r.Err()
		})
		t.queue(`SELECT a.id FROM unnest($1::text[]) AS u (id) JOIN attempts a ON a.id = u.id`, attemptIDs).Query(func(r pgx.Rows) error {
			for r.Next() {
				var id string
				if err := r.Scan(&id); err != nil {
					return err
				}
				recorded[id] = true
			}
			return r.Err()
		})
		if err := t.flush(); err != nil {
			return err
		}

		var (
			attempts  []*hook.Attempt
			newlyOff  []string // endpoints this batch disabled
			offReason []string
		)
		for _, r := range p.Results {
			d, ok := deliveries[r.DeliveryID]
			if !ok || recorded[r.Attempt.ID] {
				continue // pruned meanwhile, or recorded by an earlier try
			}
			recorded[r.Attempt.ID] = true
			ep := endpoints[d.endpointID]
			var e *hook.Endpoint
			if ep != nil {
				e = ep.e
			}
			es := hook.EndpointState{Found: e != nil}
			if e != nil {
				es.Enabled, es.ConsecutiveFailures = e.Enabled, e.ConsecutiveFailures
			}
			tr := hook.Decide(hook.DeliveryState{Status: d.status, Lease: d.lease}, es, *r, p.DisableAfter)

			a := r.Attempt
			a.DeliveryID, a.Number = r.DeliveryID, d.attempts+1
			attempts = append(attempts, &a)
			d.attempts, d.changed = d.attempts+1, true
			if !tr.KeepLastError {
				d.status, d.lease, d.next = tr.Status, 0, tr.NextAttemptAt
				d.code, d.lastErr = tr.LastStatusCode, tr.LastError
			}
			if e == nil {
				continue
			}
			if tr.SetFailures {
				e.ConsecutiveFailures, ep.setFailures = tr.Failures, true
			}
			if tr.Disable != "" {
				m := hook.AutoDisable(e, tr.Disable, now, p.OperatorEvents)
				newlyOff, offReason = append(newlyOff, e.ID), append(offReason, tr.Disable)
				// The disable cancels the endpoint's pending deliveries,
				// those of this batch included.
				for _, other := range deliveries {
					if other.endpointID == e.ID && other.status == hook.StatusPending {
						other.status, other.next, other.lastErr = hook.StatusCanceled, time.Time{}, hook.CanceledDisabled
						other.changed = true
					}
				}
				if m != nil {
					t.operatorEnqueue(*m)
				}
				out.Disabled = append(out.Disabled, store.DisabledEndpoint{EndpointID: e.ID, AccountID: e.AccountID, Reason: tr.Disable})
			}
		}
		if len(attempts) == 0 {
			return nil
		}
		if err := t.insertAttempts(attempts); err != nil {
			return err
		}
		t.updateDeliveries(deliveries, now)
		var failIDs []string
		var failures []int32
		for id, ep := range endpoints {
			if ep.setFailures {
				failIDs, failures = append(failIDs, id), append(failures, int32(ep.e.ConsecutiveFailures))
			}
		}
		if len(failIDs) > 0 {
			t.queue(`UPDATE endpoints e SET consecutive_failures = u.failures
				FROM unnest($1::text[], $2::int[]) AS u (id, failures) WHERE e.id = u.id`, failIDs, failures)
		}
		if len(newlyOff) > 0 {
			disabled = true
			// Wait for the writes adding pending deliveries to these
			// endpoints (they hold them FOR KEY SHARE), then cancel.
			t.queue(`SELECT id FROM endpoints WHERE id = ANY ($1) ORDER BY id FOR UPDATE`, newlyOff)
			t.queue(`UPDATE endpoints e SET enabled = false, disabled_reason = u.reason, disabled_at = $3, updated_at = $3
				FROM unnest($1::text[], $2::text[]) AS u (id, reason) WHERE e.id = u.id`, newlyOff, offReason, now)
			t.cancelPending(newlyOff, hook.CanceledDisabled, now)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("complete deliveries: %w", err)
	}
	if disabled {
		s.wake() // operator messages are due
	} else {
		s.signal()
	}
	return out, nil
}

// updateDeliveries queues the write of the deliveries' new state in one
// statement.
func (t *txn) updateDeliveries(ds map[string]*pendingDelivery, now time.Time) {
	n := len(ds)
	var (
		ids, statuses, errs = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		attempts, codes     = make([]int32, 0, n), make([]int32, 0, n)
		leases              = make([]int64, 0, n)
		nexts               = make([]pgtype.Timestamptz, 0, n)
	)
	for id, d := range ds {
		if !d.changed {
			continue
		}
		ids, statuses, errs = append(ids, id), append(statuses, d.status), append(errs, text(d.lastErr))
		attempts, codes = append(attempts, int32(d.attempts)), append(codes, int32(d.code))
		leases, nexts = append(leases, d.lease), append(nexts, nullTime(d.next))
	}
	t.queue(`UPDATE deliveries d SET status = u.status, attempts = u.attempts, next_attempt_at = u.next, lease = u.lease,
			last_status_code = NULLIF(u.code, 0), last_error = NULLIF(u.error, ''), updated_at = $8
		FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::bigint[], $6::int[], $7::text[])
			AS u (id, status, attempts, next, lease, code, error)
		WHERE d.id = u.id`, ids, statuses, attempts, nexts, leases, codes, errs, now)
}

// DeliveryRelease implements store.Store.
func (s *Store) DeliveryRelease(ctx context.Context, p *store.ReleaseParams) error {
	if len(p.DeliveryIDs) == 0 {
		return nil
	}
	err := s.tx(ctx, false, func(t *txn) error {
		for i, id := range p.DeliveryIDs {
			t.queue(`UPDATE deliveries SET lease = 0, next_attempt_at = $1 WHERE id = $2 AND lease = $3 AND status = 'pending'`,
				ms(p.Now), id, p.Leases[i])
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("release deliveries: %w", err)
	}
	s.wake()
	return nil
}

// DeliveryNextDue implements store.Store.
func (s *Store) DeliveryNextDue(ctx context.Context, after time.Time) (time.Time, bool, error) {
	var next pgtype.Timestamptz
	err := s.pool.QueryRow(ctx, `SELECT LEAST(
		(SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending' AND next_attempt_at > $1),
		(SELECT MIN(next_attempt_at) FROM operator_messages WHERE status = 'pending' AND next_attempt_at > $1))`,
		ms(after)).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due delivery: %w", err)
	}
	return fromNull(next), next.Valid, nil
}

// DeliveryRateLimited implements store.Store.
func (s *Store) DeliveryRateLimited(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM deliveries WHERE status = 'pending' AND rate_slot`).Scan(&n); err != nil {
		return 0, unavailable(fmt.Errorf("count rate-limited deliveries: %w", err))
	}
	return n, nil
}
