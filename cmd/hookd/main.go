// Command hookd is a webhook delivery service. See the README, or run
// "hookd help".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hookd/hookd/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.OSEnv())
	stop()
	os.Exit(code)
}
