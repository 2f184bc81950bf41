// Package version holds hookd's version, set at build time with
// -ldflags "-X github.com/hookd/hookd/internal/version.Version=1.2.3".
package version

// Version is hookd's version.
var Version = "0.1.0-dev"

// UserAgent is the User-Agent of every request hookd sends.
func UserAgent() string { return "hookd/" + Version }
