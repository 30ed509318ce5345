package cli

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"freehold/internal/app"
	"freehold/internal/config"
	"freehold/internal/mail"
	"freehold/internal/tlsutil"
)

// DemoCredentialsFile is written by `init --demo` in the data directory so
// that the start script can show the demo login again on later starts.
const DemoCredentialsFile = "demo-credentials.txt"

// Command: freehold init --data DIR --hostname HOST --domain DOMAIN [--demo]
func runInit(ctx context.Context, env Env, args []string) error {
	fs := newFlags("init", env)
	dataDir := fs.String("data", "", "data directory to create")
	hostname := fs.String("hostname", "", "fully qualified host name of this server")
	domain := fs.String("domain", "", "first mail domain")
	demo := fs.Bool("demo", false, "also create the account demo@DOMAIN with a random password, and print it")
	pgDSN := fs.String("postgres", "", "use PostgreSQL at this DSN instead of the embedded SQLite")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || *dataDir == "" || *hostname == "" || *domain == "" {
		return errUsage
	}
	dom, err := mail.ParseDomain(*domain)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(abs, "freehold.toml")
	if _, err := os.Stat(cfgPath); err == nil {
		return fmt.Errorf("%s exists already", cfgPath)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return err
	}
	cfg := config.Default()
	cfg.Hostname = *hostname
	cfg.DataDir = abs
	if *pgDSN != "" {
		cfg.Storage.Backend = "postgres"
		cfg.Storage.PostgresDSN = *pgDSN
	}
	// Validate before writing anything else.
	if err := cfg.Check(cfgPath); err != nil {
		return err
	}
	if err := tlsutil.WriteSelfSigned(cfg.Path(cfg.TLS.CertFile), cfg.Path(cfg.TLS.KeyFile),
		[]string{cfg.Hostname, "localhost"}, time.Now()); err != nil {
		return err
	}
	st, _, err := app.OpenStorage(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := app.AddDomain(ctx, st, dom); err != nil {
		return err
	}
	if err := config.Write(cfgPath, cfg); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "created %s\n", cfgPath)
	if *demo {
		pw := randomPassword()
		addr := "demo@" + dom
		if _, err := app.CreateAccount(ctx, st, addr, pw, 0); err != nil {
			return err
		}
		line := fmt.Sprintf("demo account: %s  password: %s\n", addr, pw)
		if err := os.WriteFile(filepath.Join(abs, DemoCredentialsFile), []byte(line), 0o600); err != nil {
			return err
		}
		fmt.Fprint(env.Stdout, line)
	}
	return nil
}

// randomPassword returns 16 characters from an alphabet without look-alikes.
func randomPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
