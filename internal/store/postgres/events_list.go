package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/hookd/hookd/internal/hook"
	"github.com/hookd/hookd/internal/store"
)

// EventList implements store.Store.
func (s *Store) EventList(ctx context.Context, p *store.EventListParams) ([]*hook.Event, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if p.AccountID != "" {
		add("account_id = $%d", p.AccountID)
	}
	if p.Type != "" {
		add("type = $%d", p.Type)
	}
	if !p.Since.IsZero() {
		add("created_at >= $%d", p.Since)
	}
	if !p.Until.IsZero() {
		add("created_at < $%d", p.Until)
	}
	if p.After != "" {
		add("id < $%d", p.After)
	}
	q := `SELECT ` + eventColumns + ` FROM events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, p.Limit)
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list events: %w", err))
	}
	defer rows.Close()
	var out []*hook.Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, unavailable(fmt.Errorf("list events: %w", err))
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("list events: %w", err))
	}
	return out, nil
}
