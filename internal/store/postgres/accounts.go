package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// AccountCreate implements store.Store.
func (s *Store) AccountCreate(ctx context.Context, a *hook.Account, tokenHash []byte) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO accounts (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)`,
		a.ID, text(a.Name), tokenHash, ms(a.CreatedAt))
	if err != nil {
		return unavailable(fmt.Errorf("insert account: %w", err))
	}
	return nil
}

const accountColumns = `id, name, created_at`

func scanAccount(r pgx.Row) (*hook.Account, error) {
	var a hook.Account
	if err := r.Scan(&a.ID, &a.Name, &a.CreatedAt); err != nil {
		return nil, notFound(err)
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return &a, nil
}

// AccountGet implements store.Store.
func (s *Store) AccountGet(ctx context.Context, id string) (*hook.Account, error) {
	return scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
}

// AccountByTokenHash implements store.Store.
func (s *Store) AccountByTokenHash(ctx context.Context, tokenHash []byte) (*hook.Account, error) {
	return scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE token_hash = $1`, tokenHash))
}

// AccountSetToken implements store.Store.
func (s *Store) AccountSetToken(ctx context.Context, id string, tokenHash []byte) error {
	ct, err := s.pool.Exec(ctx, `UPDATE accounts SET token_hash = $1 WHERE id = $2`, tokenHash, id)
	if err != nil {
		return unavailable(fmt.Errorf("update account token: %w", err))
	}
	if ct.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
