package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// AccountList implements store.Store.
func (s *Store) AccountList(ctx context.Context, p store.Page) ([]*hook.Account, error) {
	q, args := `SELECT `+accountColumns+` FROM accounts ORDER BY id DESC LIMIT $1`, []any{p.Limit}
	if p.After != "" {
		q, args = `SELECT `+accountColumns+` FROM accounts WHERE id < $1 ORDER BY id DESC LIMIT $2`, []any{p.After, p.Limit}
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []*hook.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("scan account: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// EndpointStats implements store.Store.
func (s *Store) EndpointStats(ctx context.Context, p *store.EndpointStatsParams) ([]store.StatsBucket, error) {
	out := p.Empty()
	rows, err := s.pool.Query(ctx, `SELECT floor(extract(epoch FROM updated_at - $1) * 1000 / $2)::bigint, status, count(*)
		FROM deliveries
		WHERE endpoint_id = $3 AND status IN ('succeeded', 'failed') AND updated_at >= $1 AND updated_at < $4
		AND trigger <> 'test' GROUP BY 1, 2`,
		ms(p.Start), p.Step.Milliseconds(), p.EndpointID, ms(p.End()))
	if err != nil {
		return nil, fmt.Errorf("endpoint stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, n int64
		var status string
		if err := rows.Scan(&i, &status, &n); err != nil {
			return nil, fmt.Errorf("scan endpoint stats: %w", err)
		}
		p.Add(out, i, status, int(n))
	}
	return out, rows.Err()
}

// SessionCreate implements store.Store.
func (s *Store) SessionCreate(ctx context.Context, se *store.Session) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM ui_sessions WHERE expires_at <= $1`, ms(se.CreatedAt)); err != nil {
		return fmt.Errorf("drop expired sessions: %w", err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO ui_sessions (id_hash, admin, account_id, read_only, return_url, accent_color,
		logo_url, theme, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		se.IDHash, se.Admin, se.AccountID, se.ReadOnly, text(se.ReturnURL), text(se.AccentColor), text(se.LogoURL),
		text(se.Theme), ms(se.CreatedAt), ms(se.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionGet implements store.Store.
func (s *Store) SessionGet(ctx context.Context, idHash []byte, now time.Time) (*store.Session, error) {
	var se store.Session
	err := s.pool.QueryRow(ctx, `SELECT id_hash, admin, account_id, read_only, return_url, accent_color, logo_url, theme,
		created_at, expires_at FROM ui_sessions WHERE id_hash = $1 AND expires_at > $2`, idHash, ms(now)).Scan(
		&se.IDHash, &se.Admin, &se.AccountID, &se.ReadOnly, &se.ReturnURL, &se.AccentColor, &se.LogoURL, &se.Theme,
		&se.CreatedAt, &se.ExpiresAt)
	if err != nil {
		return nil, notFound(err)
	}
	se.CreatedAt, se.ExpiresAt = se.CreatedAt.UTC(), se.ExpiresAt.UTC()
	return &se, nil
}

// SessionDelete implements store.Store.
func (s *Store) SessionDelete(ctx context.Context, idHash []byte) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM ui_sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// PortalLinkCreate implements store.Store.
func (s *Store) PortalLinkCreate(ctx context.Context, l *store.PortalLink) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM portal_links WHERE expires_at <= $1`, ms(l.CreatedAt)); err != nil {
		return fmt.Errorf("drop expired portal links: %w", err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO portal_links (token_hash, account_id, read_only, return_url, accent_color,
		logo_url, theme, session_ttl_ms, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		l.TokenHash, l.AccountID, l.ReadOnly, text(l.ReturnURL), text(l.AccentColor), text(l.LogoURL), text(l.Theme),
		l.SessionTTL.Milliseconds(), ms(l.CreatedAt), ms(l.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert portal link: %w", err)
	}
	return nil
}

// PortalLinkUse implements store.Store. The conditional UPDATE lets only
// one of two nodes racing for the same link win.
func (s *Store) PortalLinkUse(ctx context.Context, tokenHash []byte, now time.Time) (*store.PortalLink, error) {
	var l store.PortalLink
	var ttl int64
	err := s.pool.QueryRow(ctx, `UPDATE portal_links SET used_at = $1
		WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1
		RETURNING token_hash, account_id, read_only, return_url, accent_color, logo_url, theme,
		session_ttl_ms, created_at, expires_at`, ms(now), tokenHash).Scan(
		&l.TokenHash, &l.AccountID, &l.ReadOnly, &l.ReturnURL, &l.AccentColor, &l.LogoURL, &l.Theme,
		&ttl, &l.CreatedAt, &l.ExpiresAt)
	if err != nil {
		return nil, notFound(err)
	}
	l.SessionTTL = time.Duration(ttl) * time.Millisecond
	l.CreatedAt, l.ExpiresAt = l.CreatedAt.UTC(), l.ExpiresAt.UTC()
	return &l, nil
}
