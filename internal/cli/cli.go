// Package cli is the freehold command line: init, serve and the admin
// commands. main calls Main; nothing here exits the process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Env is what a command may touch of the outside world.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// IsTerminal reports whether Stdin is an interactive terminal, in
	// which case passwords are prompted for without echo.
	IsTerminal func() bool
	// ReadPassword reads a line from the terminal without echo.
	ReadPassword func() (string, error)
}

// command is one entry of the command table.
type command struct {
	usage string // arguments after the command name
	help  string
	run   func(ctx context.Context, env Env, args []string) error
}

// errUsage makes Main print the command's usage.
var errUsage = errors.New("usage")

func commands() map[string]command {
	return map[string]command{
		"init":        {"--data DIR --hostname HOST --domain DOMAIN [--demo] [--postgres DSN]", "create a data directory with its configuration and certificate", runInit},
		"serve":       {"--config FILE", "run the server until SIGTERM or SIGINT", runServe},
		"domain":      {"add|list|remove [DOMAIN] --config FILE", "manage the domains mail is accepted for", runDomain},
		"account":     {"add|list|passwd|remove [ADDRESS] [--quota BYTES] --config FILE", "manage accounts; passwords are read from stdin or prompted for", runAccount},
		"alias":       {"add|list|remove [ADDRESS [TARGET...]] --config FILE", "manage aliases; @domain is a catch-all", runAlias},
		"queue":       {"list|show|retry|remove|held|cancel [ID] [--account ADDRESS] --config FILE", "inspect and manage the outbound queue and scheduled messages", runQueue},
		"dkim":        {"list|rotate|retire DOMAIN [SELECTOR] --config FILE", "manage a domain's DKIM keys", runDKIM},
		"dns":         {"DOMAIN [--addr IP]... [--check] --config FILE", "print the DNS records to publish, or check them", runDNS},
		"schema":      {"[--to N] --config FILE", "print the schema version, or migrate up or down to version N (stop the server first)", runSchema},
		"config-docs": {"", "print the configuration reference (docs/config.md)", runConfigDocs},
	}
}

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, env Env) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(env.Stdout, cmds)
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "freehold: unknown command %q\n", args[0])
		printHelp(env.Stderr, cmds)
		return 2
	}
	err := c.run(ctx, env, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(env.Stderr, "usage: freehold %s %s\n", args[0], c.usage)
		return 2
	default:
		fmt.Fprintf(env.Stderr, "freehold %s: %v\n", args[0], err)
		return 1
	}
}

func printHelp(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: freehold COMMAND [ARGS]")
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n      %s\n", n, cmds[n].usage, cmds[n].help)
	}
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// parseInterspersed parses flags that may appear before or after the
// positional arguments ("account add bob@x --config f").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "freehold.toml", "configuration file")
}

func trimLine(s string) string { return strings.TrimRight(s, "\r\n") }
