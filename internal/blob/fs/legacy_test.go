package fs

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"

	"freehold/internal/blob"
	"freehold/internal/store"
)

// TestImportPack checks that the blobs of a pack.db written by an earlier
// version are readable after Open, and that the file is gone.
func TestImportPack(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pack.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE blobs (id TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID`); err != nil {
		t.Fatal(err)
	}
	enc, _ := zstd.NewWriter(nil)
	want := map[string][]byte{}
	for i := range 2*importChunk + 3 { // more than one chunk
		raw := fmt.Appendf(nil, "Subject: old %d\r\n\r\nbody\r\n", i)
		id := blob.Sum(raw)
		want[id] = raw
		if _, err := db.Exec(`INSERT INTO blobs (id, data) VALUES (?, ?)`, id, enc.EncodeAll(raw, nil)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s := open(t, dir)
	ctx := context.Background()
	for id, raw := range want {
		got, err := blob.ReadAll(ctx, s, id)
		if err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("imported blob %s: %q, %v", id[:8], got, err)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("pack.db still there after import: %v", err)
	}
}

// TestEncodeInline checks the contract of blob.Inliner: a small blob
// written as a row by the caller is then found by Open, and a big one is
// stored by PutEncoded.
func TestEncodeInline(t *testing.T) {
	dir := t.TempDir()
	rows := openRows(t, dir)
	s := openWith(t, dir, rows)
	ctx := context.Background()
	raw := []byte("Subject: inline\r\n\r\nbody\r\n")
	id, data, inline := s.Encode(raw)
	if !inline || id != blob.Sum(raw) {
		t.Fatalf("Encode: inline=%v id=%s", inline, id)
	}
	if _, err := s.Open(ctx, id); err == nil {
		t.Fatal("blob found before its row was written")
	}
	if err := rows.PutBlobs(ctx, []store.BlobRow{{ID: id, Data: data}}); err != nil {
		t.Fatal(err)
	}
	if got, err := blob.ReadAll(ctx, s, id); err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("inline blob: %q, %v", got, err)
	}
	s.rowMax = 8
	big := []byte("Subject: too big for a row\r\n\r\nbody\r\n")
	bid, bdata, inline := s.Encode(big)
	if inline {
		t.Fatal("a blob above the row limit is inline")
	}
	if err := s.PutEncoded(ctx, bid, bdata); err != nil {
		t.Fatal(err)
	}
	if got, err := blob.ReadAll(ctx, s, bid); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("blob stored with PutEncoded: %q, %v", got, err)
	}
}
