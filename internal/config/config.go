// Package config is Freehold's typed configuration: one TOML file, every
// field documented in its `doc` tag (docs/config.md is generated from those
// tags), defaults set in code, unknown keys and bad values refused with the
// file and line.
package config

import (
	"time"
)

// Config is the whole of freehold.toml.
type Config struct {
	Hostname string  `toml:"hostname" doc:"Fully qualified host name of this server, used in SMTP greetings, Received headers and TLS. Required."`
	DataDir  string  `toml:"data_dir" doc:"Directory holding the SQLite database, message blobs and TLS files. Relative paths in this file are relative to it. Required."`
	Listen   Listen  `toml:"listen" doc:"Listening addresses, each host:port, or empty to disable that listener."`
	TLS      TLS     `toml:"tls" doc:"TLS certificate used by every listener."`
	Storage  Storage `toml:"storage" doc:"Where metadata and message bodies are kept."`
	SMTP     SMTP    `toml:"smtp" doc:"SMTP reception and submission limits."`
	IMAP     IMAP    `toml:"imap" doc:"IMAP server settings."`
	Queue    Queue   `toml:"queue" doc:"Outbound queue settings."`
	DNS      DNS     `toml:"dns" doc:"DNS resolution."`
	Log      Log     `toml:"log" doc:"Logging."`
}

// Listen holds the listener addresses.
type Listen struct {
	SMTP        string `toml:"smtp" doc:"SMTP MX (RFC 5321) with STARTTLS; the internet delivers here. Port 25 in production."`
	Submission  string `toml:"submission" doc:"Message submission (RFC 6409) with STARTTLS and AUTH. Port 587 in production."`
	Submissions string `toml:"submissions" doc:"Message submission over implicit TLS (RFC 8314). Port 465 in production."`
	IMAP        string `toml:"imap" doc:"IMAP with STARTTLS. Port 143 in production."`
	IMAPS       string `toml:"imaps" doc:"IMAP over implicit TLS. Port 993 in production."`
	HTTP        string `toml:"http" doc:"HTTP: webmail, JMAP, autoconfiguration and the MTA-STS policy. Behind a TLS proxy or on loopback."`
	HTTPS       string `toml:"https" doc:"HTTPS with the configured certificate. Port 443 in production."`
}

// TLS names the certificate files.
type TLS struct {
	CertFile string `toml:"cert_file" doc:"PEM certificate chain. Relative to data_dir."`
	KeyFile  string `toml:"key_file" doc:"PEM private key. Relative to data_dir."`
}

// Storage chooses the metadata backend and blob store.
type Storage struct {
	Backend     string `toml:"backend" doc:"Metadata backend: \"sqlite\" (embedded, the default) or \"postgres\"."`
	SQLitePath  string `toml:"sqlite_path" doc:"SQLite database file. Relative to data_dir."`
	PostgresDSN string `toml:"postgres_dsn" doc:"PostgreSQL connection string (postgres://user:pass@host:port/db), for backend = \"postgres\"."`
	BlobDir     string `toml:"blob_dir" doc:"Directory of compressed message bodies too large to keep in the database (above 256 KiB compressed; smaller ones are rows of the database, committed with their message). Relative to data_dir."`
}

// SMTP holds SMTP limits.
type SMTP struct {
	MaxMessageBytes int64    `toml:"max_message_bytes" doc:"Largest message accepted, in bytes (advertised with SIZE)."`
	MaxRecipients   int      `toml:"max_recipients" doc:"Most recipients accepted for one message."`
	MaxErrors       int      `toml:"max_errors" doc:"Bad commands tolerated before a client is disconnected."`
	IdleTimeout     Duration `toml:"idle_timeout" doc:"How long a client may stay silent before it is disconnected (RFC 5321 §4.5.3.2 asks for at least 5m)."`
}

// IMAP holds IMAP settings.
type IMAP struct {
	AllowInsecureAuth bool     `toml:"allow_insecure_auth" doc:"Allow LOGIN/AUTHENTICATE without TLS from any address. Without it, plaintext login is allowed only from loopback."`
	MaxAppendBytes    int64    `toml:"max_append_bytes" doc:"Largest message APPEND accepts (APPENDLIMIT)."`
	Autologout        Duration `toml:"autologout" doc:"Idle time after which a client is logged out (RFC 9051 asks for at least 30m)."`
}

// Queue holds outbound queue settings.
type Queue struct {
	Retries   []Duration `toml:"retries" doc:"Delays between delivery attempts; the last one repeats until expire."`
	Expire    Duration   `toml:"expire" doc:"Age after which an undeliverable message is bounced."`
	MaxHold   Duration   `toml:"max_hold" doc:"Longest FUTURERELEASE hold accepted (RFC 4865)."`
	PerDomain int        `toml:"per_domain" doc:"Most simultaneous connections to one destination domain."`
}

// DNS configures resolution.
type DNS struct {
	Resolver string `toml:"resolver" doc:"DNS resolver as host:port. Empty uses the system's (/etc/resolv.conf). For DANE, point it at a validating resolver."`
}

// Log configures logging.
type Log struct {
	Level  string `toml:"level" doc:"debug, info, warn or error."`
	Format string `toml:"format" doc:"text or json."`
}

// Duration is a time.Duration written as a string ("90s", "5m") in TOML.
type Duration time.Duration

// UnmarshalText parses a duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	if v < 0 {
		return errNegative
	}
	*d = Duration(v)
	return nil
}

// MarshalText formats a duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
