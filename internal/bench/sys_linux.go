package bench

import "syscall"

// childAttr makes a child die with this process, so that an interrupted or
// crashed run leaves no hookd or receiver behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
