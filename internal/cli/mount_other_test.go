//go:build !linux

package cli_test

import "testing"

// mountTmpfs skips the test: filling a small filesystem of its own needs
// Linux's tmpfs.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	t.Skip("the full-disk test mounts a tmpfs, which needs Linux")
	return ""
}
