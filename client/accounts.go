package client

import (
	"context"
	"net/http"
	"time"
)

// Account is a customer account: the owner of endpoints and events.
type Account struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	// Token is the account's API token. It is set only in the answer to
	// CreateAccount; store it then, hookd shows it only once.
	Token string `json:"token,omitempty"`
}

// CreateAccount creates an account and returns it with its token (POST
// /v1/accounts). It needs the admin token.
func (c *Client) CreateAccount(ctx context.Context, name string) (*Account, error) {
	var a Account
	body := struct {
		Name string `json:"name"`
	}{name}
	if _, err := c.call(ctx, request{method: http.MethodPost, path: []string{"v1", "accounts"}, body: body}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// GetAccount returns an account (GET /v1/accounts/{id}). It needs the
// admin token; an unknown id is CodeNotFound.
func (c *Client) GetAccount(ctx context.Context, id string) (*Account, error) {
	var a Account
	if _, err := c.call(ctx, request{method: http.MethodGet, path: []string{"v1", "accounts", id}}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// RotateAccountToken gives an account a new token and returns it (POST
// /v1/accounts/{id}/rotate-token). The old token stops working at once. It
// needs the admin token.
func (c *Client) RotateAccountToken(ctx context.Context, id string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if _, err := c.call(ctx, request{method: http.MethodPost, path: []string{"v1", "accounts", id, "rotate-token"}}, &out); err != nil {
		return "", err
	}
	return out.Token, nil
}
