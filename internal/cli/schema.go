package cli

import (
	"context"
	"errors"
	"fmt"

	"freehold/internal/app"
	"freehold/internal/config"
	"freehold/internal/store"
)

// Command: freehold schema [--to N] --config FILE
//
// Without --to it prints the schema version. With --to it migrates up or
// down to version N: rolling back to the previous version before
// downgrading the binary. Stop the server first.
func runSchema(ctx context.Context, env Env, args []string) error {
	fs := newFlags("schema", env)
	cfgPath := configFlag(fs)
	to := fs.Int("to", -1, "migrate to this schema version (down migrations roll back)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return errUsage
	}
	return withStoreOpts(ctx, *cfgPath, app.StorageOptions{SkipMigrations: true}, func(cfg config.Config, st store.Store) error {
		m, ok := st.(store.Maintenance)
		if !ok {
			return errors.New("this store has no schema migrations")
		}
		if *to >= 0 {
			if err := m.Migrate(ctx, *to); err != nil {
				return err
			}
		}
		v, err := m.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "schema version %d\n", v)
		return nil
	})
}
