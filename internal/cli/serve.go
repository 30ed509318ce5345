package cli

import (
	"context"

	"freehold/internal/app"
	"freehold/internal/config"
)

// Command: freehold serve --config FILE
//
// ctx is cancelled by SIGTERM or SIGINT (see main); the server then stops
// accepting, lets in-flight transactions finish for a grace period, and
// closes the store after its last commit.
func runServe(ctx context.Context, env Env, args []string) error {
	fs := newFlags("serve", env)
	cfgPath := configFlag(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return errUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	logger := app.NewLogger(cfg.Log, env.Stderr)
	a, err := app.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}
