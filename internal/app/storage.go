package app

import (
	"context"
	"fmt"
	"os"

	"freehold/internal/blob"
	blobfs "freehold/internal/blob/fs"
	"freehold/internal/config"
	"freehold/internal/store"
	"freehold/internal/store/postgres"
	"freehold/internal/store/sqlite"
)

// OpenStorage opens the configured metadata store (migrating its schema)
// and blob store, as the server runs them. The blob store keeps its small
// blobs in the metadata store (store.BlobRows).
func OpenStorage(ctx context.Context, cfg config.Config) (store.Store, blob.Store, error) {
	st, err := OpenStore(ctx, cfg, StorageOptions{})
	if err != nil {
		return nil, nil, err
	}
	blobs, err := blobfs.Open(ctx, cfg.Path(cfg.Storage.BlobDir), st)
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("blob store: %w", err)
	}
	return st, blobs, nil
}

// StorageOptions tune OpenStore.
type StorageOptions struct {
	// SkipMigrations opens the store at whatever schema version it has,
	// for the schema command.
	SkipMigrations bool
}

// OpenStore opens the configured metadata store alone, for the admin
// commands: none of them reads a body, and opening the blob store would
// also clear its directory of temporary files, which a running server may
// be writing.
func OpenStore(ctx context.Context, cfg config.Config, o StorageOptions) (store.Store, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, err
	}
	var st store.Store
	var err error
	switch cfg.Storage.Backend {
	case "postgres":
		st, err = postgres.Open(ctx, cfg.Storage.PostgresDSN, postgres.Options{SkipMigrations: o.SkipMigrations})
	default:
		st, err = sqlite.Open(ctx, cfg.Path(cfg.Storage.SQLitePath), sqlite.Options{SkipMigrations: o.SkipMigrations})
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return st, nil
}
