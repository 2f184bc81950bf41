package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// AccountList implements store.Store.
func (s *Store) AccountList(ctx context.Context, p store.Page) ([]*hook.Account, error) {
	q, args := `SELECT `+accountColumns+` FROM accounts ORDER BY id DESC LIMIT ?`, []any{p.Limit}
	if p.After != "" {
		q, args = `SELECT `+accountColumns+` FROM accounts WHERE id < ? ORDER BY id DESC LIMIT ?`, []any{p.After, p.Limit}
	}
	rows, err := s.query(ctx, q, args...)
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
	rows, err := s.query(ctx, `SELECT (updated_at - ?) / ?, status, COUNT(*) FROM deliveries
		WHERE endpoint_id = ? AND status IN ('succeeded', 'failed') AND updated_at >= ? AND updated_at < ?
		AND trigger <> 'test' GROUP BY 1, 2`,
		ms(p.Start), p.Step.Milliseconds(), p.EndpointID, ms(p.Start), ms(p.End()))
	if err != nil {
		return nil, fmt.Errorf("endpoint stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			i      int64
			n      int
			status string
		)
		if err := rows.Scan(&i, &status, &n); err != nil {
			return nil, fmt.Errorf("scan endpoint stats: %w", err)
		}
		p.Add(out, i, status, n)
	}
	return out, rows.Err()
}

// SessionCreate implements store.Store.
func (s *Store) SessionCreate(ctx context.Context, se *store.Session) error {
	return s.write(ctx, durable, func(w *wtx) error {
		if _, err := w.exec(`DELETE FROM ui_sessions WHERE expires_at <= ?`, ms(se.CreatedAt)); err != nil {
			return fmt.Errorf("drop expired sessions: %w", err)
		}
		_, err := w.exec(`INSERT INTO ui_sessions (id_hash, admin, account_id, read_only, return_url, accent_color,
			logo_url, theme, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			se.IDHash, se.Admin, se.AccountID, se.ReadOnly, se.ReturnURL, se.AccentColor, se.LogoURL, se.Theme,
			ms(se.CreatedAt), ms(se.ExpiresAt))
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		return nil
	})
}

// SessionGet implements store.Store.
func (s *Store) SessionGet(ctx context.Context, idHash []byte, now time.Time) (*store.Session, error) {
	var se store.Session
	var created, expires int64
	err := s.queryRow(ctx, `SELECT id_hash, admin, account_id, read_only, return_url, accent_color, logo_url, theme,
		created_at, expires_at FROM ui_sessions WHERE id_hash = ? AND expires_at > ?`, idHash, ms(now)).Scan(
		&se.IDHash, &se.Admin, &se.AccountID, &se.ReadOnly, &se.ReturnURL, &se.AccentColor, &se.LogoURL, &se.Theme,
		&created, &expires)
	if err != nil {
		return nil, err
	}
	se.CreatedAt, se.ExpiresAt = fromMS(created), fromMS(expires)
	return &se, nil
}

// SessionDelete implements store.Store.
func (s *Store) SessionDelete(ctx context.Context, idHash []byte) error {
	return s.write(ctx, durable, func(w *wtx) error {
		if _, err := w.exec(`DELETE FROM ui_sessions WHERE id_hash = ?`, idHash); err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
		return nil
	})
}

// PortalLinkCreate implements store.Store.
func (s *Store) PortalLinkCreate(ctx context.Context, l *store.PortalLink) error {
	return s.write(ctx, durable, func(w *wtx) error {
		if _, err := w.exec(`DELETE FROM portal_links WHERE expires_at <= ?`, ms(l.CreatedAt)); err != nil {
			return fmt.Errorf("drop expired portal links: %w", err)
		}
		_, err := w.exec(`INSERT INTO portal_links (token_hash, account_id, read_only, return_url, accent_color,
			logo_url, theme, session_ttl_ms, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			l.TokenHash, l.AccountID, l.ReadOnly, l.ReturnURL, l.AccentColor, l.LogoURL, l.Theme,
			l.SessionTTL.Milliseconds(), ms(l.CreatedAt), ms(l.ExpiresAt))
		if err != nil {
			return fmt.Errorf("insert portal link: %w", err)
		}
		return nil
	})
}

// PortalLinkUse implements store.Store.
func (s *Store) PortalLinkUse(ctx context.Context, tokenHash []byte, now time.Time) (*store.PortalLink, error) {
	var l store.PortalLink
	err := s.write(ctx, durable, func(w *wtx) error {
		var ttl, created, expires int64
		err := w.queryRow(`UPDATE portal_links SET used_at = ?
			WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
			RETURNING token_hash, account_id, read_only, return_url, accent_color, logo_url, theme,
			session_ttl_ms, created_at, expires_at`, ms(now), tokenHash, ms(now)).Scan(
			&l.TokenHash, &l.AccountID, &l.ReadOnly, &l.ReturnURL, &l.AccentColor, &l.LogoURL, &l.Theme,
			&ttl, &created, &expires)
		if err != nil {
			return err
		}
		l.SessionTTL = time.Duration(ttl) * time.Millisecond
		l.CreatedAt, l.ExpiresAt = fromMS(created), fromMS(expires)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &l, nil
}
