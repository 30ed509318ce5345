package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"freehold/internal/store"
	"freehold/internal/store/sqlite"
	"freehold/internal/store/storetest"
)

func open(t *testing.T) store.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "freehold.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, open)
}
