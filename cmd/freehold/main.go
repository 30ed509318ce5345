// Command freehold is the Freehold mail and groupware server and its admin
// command line. See `freehold help`.
package main

import (
	"bufio"
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"freehold/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	stdin := bufio.NewReader(os.Stdin)
	env := cli.Env{
		Stdin:      stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		IsTerminal: func() bool { return term.IsTerminal(int(os.Stdin.Fd())) },
		ReadPassword: func() (string, error) {
			b, err := term.ReadPassword(int(os.Stdin.Fd()))
			return string(b), err
		},
	}
	code := cli.Main(ctx, os.Args[1:], env)
	stop()
	os.Exit(code)
}
