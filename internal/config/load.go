package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

var errNegative = errors.New("negative duration")

// Error is a configuration error with its place in the file.
type Error struct {
	File string
	Line int    // 0 when unknown
	Key  string // dotted key, when known
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads and validates a configuration file. Relative data_dir is taken
// relative to the file's directory.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	return Parse(path, data)
}

// Parse decodes and validates TOML text; name is used in errors.
func Parse(name string, data []byte) (Config, error) {
	cfg := Default()
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return Config{}, &Error{File: name, Line: pe.Position.Line, Msg: pe.Message}
		}
		return Config{}, &Error{File: name, Msg: err.Error()}
	}
	loc := newLocator(data)
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0].String()
		return Config{}, &Error{File: name, Line: loc.line(k), Key: k, Msg: "unknown key"}
	}
	if cfg.DataDir != "" && !filepath.IsAbs(cfg.DataDir) {
		cfg.DataDir = filepath.Join(filepath.Dir(name), cfg.DataDir)
	}
	if ps := cfg.validate(); len(ps) > 0 {
		return Config{}, &Error{File: name, Line: loc.line(ps[0].key), Key: ps[0].key, Msg: ps[0].msg}
	}
	return cfg, nil
}

// Check validates a configuration built in code (freehold init) before it
// is written to name; the error has no line, since there is no file yet.
func (c Config) Check(name string) error {
	if ps := c.validate(); len(ps) > 0 {
		return &Error{File: name, Key: ps[0].key, Msg: ps[0].msg}
	}
	return nil
}

type problem struct{ key, msg string }

// validate returns every problem of a decoded configuration.
func (c *Config) validate() []problem {
	var ps []problem
	add := func(key, format string, args ...any) {
		ps = append(ps, problem{key, fmt.Sprintf(format, args...)})
	}
	if c.Hostname == "" {
		add("hostname", "required")
	} else if strings.ContainsAny(c.Hostname, " /:@") || !strings.Contains(c.Hostname, ".") && c.Hostname != "localhost" {
		add("hostname", "%q is not a fully qualified host name", c.Hostname)
	}
	if c.DataDir == "" {
		add("data_dir", "required")
	}
	for key, addr := range map[string]string{
		"listen.smtp": c.Listen.SMTP, "listen.submission": c.Listen.Submission,
		"listen.submissions": c.Listen.Submissions, "listen.imap": c.Listen.IMAP,
		"listen.imaps": c.Listen.IMAPS, "listen.http": c.Listen.HTTP,
		"listen.https": c.Listen.HTTPS,
	} {
		if addr == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(addr); err != nil {
			add(key, "%q is not host:port", addr)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			add(key, "%q has a bad port", addr)
		}
	}
	switch c.Storage.Backend {
	case "sqlite":
	case "postgres":
		if c.Storage.PostgresDSN == "" {
			add("storage.postgres_dsn", "required when backend = \"postgres\"")
		}
	default:
		add("storage.backend", "%q: must be \"sqlite\" or \"postgres\"", c.Storage.Backend)
	}
	if c.SMTP.MaxMessageBytes < 1024 {
		add("smtp.max_message_bytes", "%d is too small", c.SMTP.MaxMessageBytes)
	}
	if c.SMTP.MaxRecipients < 1 {
		add("smtp.max_recipients", "must be at least 1")
	}
	if c.SMTP.MaxErrors < 1 {
		add("smtp.max_errors", "must be at least 1")
	}
	if c.IMAP.MaxAppendBytes < 1024 {
		add("imap.max_append_bytes", "%d is too small", c.IMAP.MaxAppendBytes)
	}
	if len(c.Queue.Retries) == 0 {
		add("queue.retries", "needs at least one delay")
	}
	if c.Queue.PerDomain < 1 {
		add("queue.per_domain", "must be at least 1")
	}
	if c.DNS.Resolver != "" {
		if _, _, err := net.SplitHostPort(c.DNS.Resolver); err != nil {
			add("dns.resolver", "%q is not host:port", c.DNS.Resolver)
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level", "%q: must be debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		add("log.format", "%q: must be text or json", c.Log.Format)
	}
	return ps
}

// Path resolves a path of the configuration against DataDir.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.DataDir, p)
}

// locator finds the line of a dotted key in TOML text. It understands
// [table] headers and "key =" lines, which is all Freehold's format uses.
type locator map[string]int

func newLocator(data []byte) locator {
	l := locator{}
	table := ""
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			table = strings.Trim(line, "[] ")
			if _, ok := l[table]; !ok {
				l[table] = i + 1
			}
		default:
			eq := strings.IndexByte(line, '=')
			if eq < 0 {
				continue
			}
			key := strings.Trim(strings.TrimSpace(line[:eq]), `"'`)
			if table != "" {
				key = table + "." + key
			}
			if _, ok := l[key]; !ok {
				l[key] = i + 1
			}
		}
	}
	return l
}

func (l locator) line(key string) int {
	for k := key; k != ""; {
		if n, ok := l[k]; ok {
			return n
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}
