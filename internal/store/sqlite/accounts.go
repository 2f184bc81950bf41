package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// AccountCreate implements store.Store.
func (s *Store) AccountCreate(ctx context.Context, a *hook.Account, tokenHash []byte) error {
	return s.write(ctx, relaxed, func(w *wtx) error {
		_, err := w.exec(`INSERT INTO accounts (id, name, token_hash, created_at) VALUES (?, ?, ?, ?)`,
			a.ID, a.Name, tokenHash, ms(a.CreatedAt))
		if err != nil {
			return fmt.Errorf("insert account: %w", err)
		}
		return nil
	})
}

const accountColumns = `id, name, created_at`

func scanAccount(r interface{ Scan(...any) error }) (*hook.Account, error) {
	var a hook.Account
	var created int64
	if err := r.Scan(&a.ID, &a.Name, &created); err != nil {
		return nil, err
	}
	a.CreatedAt = fromMS(created)
	return &a, nil
}

// AccountGet implements store.Store.
func (s *Store) AccountGet(ctx context.Context, id string) (*hook.Account, error) {
	return scanAccount(s.queryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
}

// AccountByTokenHash implements store.Store.
func (s *Store) AccountByTokenHash(ctx context.Context, tokenHash []byte) (*hook.Account, error) {
	return scanAccount(s.queryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE token_hash = ?`, tokenHash))
}

// AccountSetToken implements store.Store.
func (s *Store) AccountSetToken(ctx context.Context, id string, tokenHash []byte) error {
	return s.write(ctx, durable, func(w *wtx) error {
		res, err := w.exec(`UPDATE accounts SET token_hash = ? WHERE id = ?`, tokenHash, id)
		if err != nil {
			return fmt.Errorf("update account token: %w", err)
		}
		return mustAffect(res)
	})
}

// mustAffect turns an update that matched no row into store.ErrNotFound.
func mustAffect(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
