package app

import (
	"io"
	"log/slog"

	"freehold/internal/config"
)

// NewLogger returns the process logger configured by [log]. The level
// names config accepts (debug, info, warn, error) are slog.Level's own;
// anything else leaves the zero level, info.
func NewLogger(c config.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
