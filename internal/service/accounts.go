package service

import (
	"context"
	"strings"

	"github.com/hookd/hookd/internal/hook"
)

// maxNameLen bounds account names and endpoint descriptions.
const (
	maxNameLen        = 200
	maxDescriptionLen = 1024
)

// CreateAccount creates an account and returns it with its token, which
// is shown this once.
func (s *Service) CreateAccount(ctx context.Context, actor Actor, name string) (*hook.Account, string, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, "", err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, "", hook.FieldErrorf(hook.EInvalidParameter, "name", "An account name is required.")
	}
	if err := checkText("name", "An account name", name, maxNameLen); err != nil {
		return nil, "", err
	}
	tok, hash, err := newToken()
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	a := &hook.Account{ID: hook.NewIDAt(hook.PrefixAccount, now), Name: name, CreatedAt: now}
	if err := s.cfg.Store.AccountCreate(ctx, a, hash); err != nil {
		return nil, "", err
	}
	return a, tok, nil
}

// GetAccount returns an account (admin only).
func (s *Service) GetAccount(ctx context.Context, actor Actor, id string) (*hook.Account, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	a, err := s.cfg.Store.AccountGet(ctx, id)
	return a, notFound(err, "account")
}

// RotateAccountToken gives an account a new token; the old one stops
// working at once.
func (s *Service) RotateAccountToken(ctx context.Context, actor Actor, id string) (string, error) {
	if err := requireAdmin(actor); err != nil {
		return "", err
	}
	tok, hash, err := newToken()
	if err != nil {
		return "", err
	}
	if err := s.cfg.Store.AccountSetToken(ctx, id, hash); err != nil {
		return "", notFound(err, "account")
	}
	return tok, nil
}
