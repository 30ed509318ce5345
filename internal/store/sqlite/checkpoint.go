package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"time"
)

// checkpointInterval is how often the checkpointer copies the WAL's new
// pages into the database.
const checkpointInterval = 200 * time.Millisecond

// checkpointer copies committed pages from the WAL into the database file
// on a connection of its own, beside the writer, so that the writer's
// commits seldom wait for a checkpoint: its own automatic checkpoint (at
// 8,000 pages) then finds little left to copy and mostly restarts the WAL.
// A PASSIVE checkpoint takes no lock that writers or readers wait for; it
// copies what no reader still needs and leaves the rest for next time.
func checkpointer(db *sql.DB, log *slog.Logger) func(ctx context.Context) {
	return func(ctx context.Context) {
		defer db.Close()
		t := time.NewTicker(checkpointInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil && ctx.Err() == nil {
				log.Debug("sqlite: background checkpoint", "err", err)
			}
		}
	}
}
