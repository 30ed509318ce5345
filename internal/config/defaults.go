package config

import "time"

// Default returns a configuration with every default filled in; Hostname
// and DataDir are left empty for the caller.
func Default() Config {
	return Config{
		Listen: Listen{
			SMTP:        "127.0.0.1:2525",
			Submission:  "127.0.0.1:2587",
			Submissions: "127.0.0.1:2465",
			IMAP:        "127.0.0.1:2143",
			IMAPS:       "127.0.0.1:2993",
			HTTP:        "127.0.0.1:8080",
			HTTPS:       "127.0.0.1:8443",
		},
		TLS:     TLS{CertFile: "tls/cert.pem", KeyFile: "tls/key.pem"},
		Storage: Storage{Backend: "sqlite", SQLitePath: "freehold.db", BlobDir: "blobs"},
		SMTP: SMTP{
			MaxMessageBytes: 50 << 20,
			MaxRecipients:   100,
			MaxErrors:       10,
			IdleTimeout:     Duration(5 * time.Minute),
		},
		IMAP: IMAP{
			MaxAppendBytes: 50 << 20,
			Autologout:     Duration(30 * time.Minute),
		},
		Queue: Queue{
			Retries: []Duration{
				Duration(time.Minute), Duration(5 * time.Minute), Duration(15 * time.Minute),
				Duration(time.Hour), Duration(4 * time.Hour), Duration(8 * time.Hour),
			},
			Expire:    Duration(5 * 24 * time.Hour),
			MaxHold:   Duration(30 * 24 * time.Hour),
			PerDomain: 4,
		},
		Log: Log{Level: "info", Format: "text"},
	}
}
