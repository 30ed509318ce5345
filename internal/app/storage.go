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
// and blob store.
func OpenStorage(ctx context.Context, cfg config.Config) (store.Store, blob.Store, error) {
	return OpenStorageWith(ctx, cfg, StorageOptions{})
}

// StorageOptions tune OpenStorageWith.
type StorageOptions struct {
	// SkipMigrations opens the store at whatever schema version it has,
	// for the schema command.
	SkipMigrations bool
}

// OpenStorageWith is OpenStorage with options. The blob store keeps its
// small blobs in the metadata store (store.BlobRows); with SkipMigrations
// the schema may not have their table, so no blob store is opened.
func OpenStorageWith(ctx context.Context, cfg config.Config, o StorageOptions) (store.Store, blob.Store, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, nil, err
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
		return nil, nil, fmt.Errorf("store: %w", err)
	}
	if o.SkipMigrations {
		return st, nil, nil
	}
	blobs, err := blobfs.Open(ctx, cfg.Path(cfg.Storage.BlobDir), st)
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("blob store: %w", err)
	}
	return st, blobs, nil
}
