package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"freehold/internal/app"
	"freehold/internal/auth"
	"freehold/internal/config"
	"freehold/internal/mail"
	"freehold/internal/store"
)

// withStore loads the configuration and opens its metadata store (not the
// blob store: see app.OpenStore) for an admin command. The server may be
// running: both backends allow it.
func withStore(ctx context.Context, cfgPath string, fn func(cfg config.Config, st store.Store) error) error {
	return withStoreOpts(ctx, cfgPath, app.StorageOptions{}, fn)
}

func withStoreOpts(ctx context.Context, cfgPath string, o app.StorageOptions, fn func(cfg config.Config, st store.Store) error) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	st, err := app.OpenStore(ctx, cfg, o)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(cfg, st)
}

// Command: freehold domain add|list|remove
func runDomain(ctx context.Context, env Env, args []string) error {
	fs := newFlags("domain", env)
	cfgPath := configFlag(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil || len(pos) == 0 {
		return errUsage
	}
	return withStore(ctx, *cfgPath, func(cfg config.Config, st store.Store) error {
		switch {
		case pos[0] == "list" && len(pos) == 1:
			ds, err := st.Domains(ctx)
			if err != nil {
				return err
			}
			for _, d := range ds {
				fmt.Fprintln(env.Stdout, d.Name)
			}
			return nil
		case pos[0] == "add" && len(pos) == 2:
			d, err := mail.ParseDomain(pos[1])
			if err != nil {
				return err
			}
			if err := app.AddDomain(ctx, st, d); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "domain %s added\n", d)
			return nil
		case pos[0] == "remove" && len(pos) == 2:
			d, err := mail.ParseDomain(pos[1])
			if err != nil {
				return err
			}
			if err := st.RemoveDomain(ctx, d); err != nil {
				if errors.Is(err, store.ErrInvalid) {
					return fmt.Errorf("domain %s still has accounts; remove them first", d)
				}
				return err
			}
			fmt.Fprintf(env.Stdout, "domain %s removed\n", d)
			return nil
		}
		return errUsage
	})
}

// Command: freehold account add|list|passwd|remove
func runAccount(ctx context.Context, env Env, args []string) error {
	fs := newFlags("account", env)
	cfgPath := configFlag(fs)
	quota := fs.Int64("quota", 0, "storage quota in bytes (0: unlimited)")
	pos, err := parseInterspersed(fs, args)
	if err != nil || len(pos) == 0 {
		return errUsage
	}
	return withStore(ctx, *cfgPath, func(cfg config.Config, st store.Store) error {
		if pos[0] == "list" && len(pos) == 1 {
			return listAccounts(ctx, env, st)
		}
		if len(pos) != 2 {
			return errUsage
		}
		addr, err := mail.ParseAddress(pos[1])
		if err != nil {
			return err
		}
		switch pos[0] {
		case "add":
			pw, err := readPassword(env, "password for "+addr.Key()+": ")
			if err != nil {
				return err
			}
			if _, err := app.CreateAccount(ctx, st, addr.Key(), pw, *quota); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "account %s added\n", addr.Key())
			return nil
		case "passwd":
			a, err := st.AccountByAddress(ctx, addr.Key())
			if err != nil {
				return err
			}
			pw, err := readPassword(env, "new password for "+addr.Key()+": ")
			if err != nil {
				return err
			}
			h, err := auth.Hash(pw, auth.DefaultParams)
			if err != nil {
				return err
			}
			if err := st.SetPassword(ctx, a.ID, h); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "password of %s changed\n", addr.Key())
			return nil
		case "remove":
			a, err := st.AccountByAddress(ctx, addr.Key())
			if err != nil {
				return err
			}
			if err := st.DeleteAccount(ctx, a.ID); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "account %s removed\n", addr.Key())
			return nil
		}
		return errUsage
	})
}

func listAccounts(ctx context.Context, env Env, st store.Store) error {
	as, err := st.Accounts(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tMESSAGES\tBYTES\tQUOTA")
	for _, a := range as {
		q := "unlimited"
		if a.QuotaBytes > 0 {
			q = fmt.Sprint(a.QuotaBytes)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", a.Address, a.Messages, a.Bytes, q)
	}
	return tw.Flush()
}

// Command: freehold alias add|list|remove
func runAlias(ctx context.Context, env Env, args []string) error {
	fs := newFlags("alias", env)
	cfgPath := configFlag(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil || len(pos) == 0 {
		return errUsage
	}
	return withStore(ctx, *cfgPath, func(cfg config.Config, st store.Store) error {
		switch {
		case pos[0] == "list" && len(pos) == 1:
			as, err := st.Aliases(ctx)
			if err != nil {
				return err
			}
			for _, a := range as {
				fmt.Fprintf(env.Stdout, "%s -> %s\n", a.Address, strings.Join(a.Targets, ", "))
			}
			return nil
		case pos[0] == "add" && len(pos) >= 3:
			a, err := app.AddAlias(ctx, st, pos[1], pos[2:])
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "alias %s -> %s\n", a.Address, strings.Join(a.Targets, ", "))
			return nil
		case pos[0] == "remove" && len(pos) == 2:
			key, err := app.AliasKey(pos[1])
			if err != nil {
				return err
			}
			if err := st.RemoveAlias(ctx, key); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "alias %s removed\n", key)
			return nil
		}
		return errUsage
	})
}

func runConfigDocs(ctx context.Context, env Env, args []string) error {
	if len(args) != 0 {
		return errUsage
	}
	_, err := fmt.Fprint(env.Stdout, config.Reference())
	return err
}
