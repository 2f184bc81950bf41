// Package hook holds hookd's domain types: accounts, endpoints, events,
// deliveries and attempts, their states, and the error type that every layer
// uses to report a problem a user can act on.
//
// It imports only the standard library, so every other package may depend
// on it and it depends on none of them.
package hook
