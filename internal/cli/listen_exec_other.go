//go:build !unix

package cli

import "os/exec"

// listenExecProcessGroup leaves cmd as it is: canceling it kills the shell
// only.
func listenExecProcessGroup(*exec.Cmd) {}
