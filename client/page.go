package client

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// ListParams selects a page of a list. The zero value asks for the first
// page with the server's default size (50).
type ListParams struct {
	// Limit is the page size, 1 to 500; 0 means the server's default.
	Limit int
	// Cursor is the NextCursor of the previous page; "" for the first.
	Cursor string
}

// values returns the query parameters of p, leaving out unset ones.
func (p ListParams) values() url.Values {
	q := url.Values{}
	if p.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	setNonEmpty(q, "cursor", p.Cursor)
	return q
}

func setNonEmpty(q url.Values, key, value string) {
	if value != "" {
		q.Set(key, value)
	}
}

// Page is one page of a list. Lists are newest first, except attempts,
// which come in number order.
type Page[T any] struct {
	Data []T
	// NextCursor fetches the next page; it is "" when no more items
	// follow.
	NextCursor string
}

// getPage fetches one page of the list at path.
func getPage[T any](ctx context.Context, c *Client, path []string, q url.Values) (*Page[T], error) {
	var l struct {
		Data       []T     `json:"data"`
		NextCursor *string `json:"next_cursor"`
	}
	if _, err := c.call(ctx, request{method: http.MethodGet, path: path, query: q}, &l); err != nil {
		return nil, err
	}
	p := &Page[T]{Data: l.Data}
	if l.NextCursor != nil {
		p.NextCursor = *l.NextCursor
	}
	return p, nil
}

// errCursorLoop stops an iteration whose server hands back the cursor it
// was given, which would otherwise never end.
var errCursorLoop = errors.New("hookd: the server returned the same cursor again")

// all iterates over every item of every page that fetch returns, starting
// at p. It yields the first error, with a zero item, and stops there.
func all[T any](p ListParams, fetch func(ListParams) (*Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		p := p // each iteration starts afresh
		for {
			page, err := fetch(p)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, item := range page.Data {
				if !yield(item, nil) {
					return
				}
			}
			if page.NextCursor == "" {
				return
			}
			if page.NextCursor == p.Cursor {
				yield(zero, errCursorLoop)
				return
			}
			p.Cursor = page.NextCursor
		}
	}
}
