//go:build unix

package cli

import (
	"os/exec"
	"syscall"
)

// listenExecProcessGroup runs cmd in a process group of its own and makes
// canceling it kill the whole group, so that "sh -c 'sleep 10'" does not
// leave the sleep running after the shell is killed.
func listenExecProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
