package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"
)

// Write saves cfg as TOML at path, creating it with mode 0640. DataDir is
// written as given.
func Write(path string, cfg Config) error {
	var b bytes.Buffer
	b.WriteString("# Freehold configuration. Every key is documented in docs/config.md.\n")
	if err := toml.NewEncoder(&b).Encode(cfg); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
