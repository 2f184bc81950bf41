// Package postgres is hookd's scale-out storage backend on PostgreSQL.
package postgres

import _ "github.com/jackc/pgx/v5/pgxpool" // pinned in go.mod for this package
