package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/service"
	"github.com/hookd/hookd/internal/store"
)

// runSeal is hookd seal: re-seal every stored signing key under the first
// --secret-key and scrub what the keys replaced from the database
// (SQLite: VACUUM, then the WAL truncated; PostgreSQL: VACUUM FULL of the
// endpoints table). With SQLite, hookd serve must be stopped (the
// database is locked by it); with PostgreSQL it may run beside the nodes.
func runSeal(ctx context.Context, args []string, env Env) error {
	cfg := &config.Config{}
	fs := cfg.FlagSet("hookd seal", env.Stderr)
	if err := parseCommand(fs, "hookd seal --secret-key NEW[,OLD…] [--data-dir DIR | --db URL]", args, env, ""); err != nil {
		return err
	}
	if cfg.SecretKey == "" && cfg.SecretKeyFile == "" {
		return errors.New("needs --secret-key (or --secret-key-file): the key to seal with first, then the older keys still in use")
	}
	if cfg.SecretKey != "" && cfg.SecretKeyFile != "" {
		return errors.New("--secret-key and --secret-key-file exclude each other")
	}
	sealer, err := keySealer(cfg)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, time.Now, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	rep, err := service.ResealKeys(ctx, st, sealer, true)
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close database: %w", cerr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "sealed %d signing keys of %d endpoints (of %d) under the first --secret-key; database scrubbed\n",
		rep.Keys, rep.Changed, rep.Endpoints)
	if n := len(rep.Unreadable); n > 0 {
		ids := rep.Unreadable
		if n > 10 {
			ids = ids[:10]
		}
		return fmt.Errorf("%d endpoints hold keys sealed by a key not given (%s): add that key to --secret-key and run hookd seal again",
			n, strings.Join(ids, ", "))
	}
	return nil
}

// resealAtStart seals, when hookd serve starts with --secret-key, every
// stored key that is not sealed by its first key, and scrubs what that
// replaced (see service.ResealKeys).
func resealAtStart(ctx context.Context, st store.Store, sealer service.KeySealer, log *slog.Logger) error {
	rep, err := service.ResealKeys(ctx, st, sealer, false)
	if errors.Is(err, service.ErrScrub) {
		// The keys are sealed and usable: serve, and say what is left.
		log.Warn("run hookd seal to remove the replaced keys from the database files", slog.Any("error", err))
	} else if err != nil {
		return fmt.Errorf("seal stored keys: %w", err)
	}
	if rep.Changed > 0 {
		log.Info("sealed stored signing keys under the first --secret-key",
			slog.Int("keys", rep.Keys), slog.Int("endpoints", rep.Changed))
	}
	if n := len(rep.Unreadable); n > 0 {
		log.Warn("endpoints hold keys sealed by a --secret-key this hookd does not have; they cannot sign until it does",
			slog.Int("endpoints", n), slog.String("first_endpoint_id", rep.Unreadable[0]))
	}
	return nil
}
