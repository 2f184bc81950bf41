//go:build !linux

package bench

import "syscall"

// childAttr is nil off Linux: no parent-death signal there. (The /proc
// sampler is Linux-only too; elsewhere RSS and CPU read as zero.)
func childAttr() *syscall.SysProcAttr { return nil }
