package app

import (
	"context"
	"log/slog"
	"time"

	"freehold/internal/store"
)

// pruneEvery is how often old change log entries are removed.
const pruneEvery = time.Hour

// pruneLoop removes change log entries older than the retention period,
// once at start and then every pruneEvery, until ctx ends.
func pruneLoop(ctx context.Context, st store.Store, log *slog.Logger) {
	m, ok := st.(store.Maintenance)
	if !ok {
		return
	}
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		n, err := m.PruneChanges(ctx, time.Now().Add(-store.ChangeLogRetention))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("pruning the change log", "err", err)
		case n > 0:
			log.Info("pruned the change log", "entries", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
