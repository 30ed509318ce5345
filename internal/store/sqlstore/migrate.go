package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
)

// Migrations live in migrations/<dialect>/NNNN_name.up.sql, with a
// matching .down.sql that undoes it, so an administrator can roll back to
// the previous release. Numbers are reserved by area: 0001-0009 the core
// schema, 0010-0019 the outbound queue, 0020-0029 JMAP, 0030-0039 IMAP. Any
// file following the pattern is picked up; gaps are fine.
//
//go:embed migrations
var migrationFiles embed.FS

var migrationName = regexp.MustCompile(`^(\d{4})_([A-Za-z0-9_]+)\.(up|down)\.sql$`)

// Latest, as a Migrate target, means the newest version this program
// knows; any negative target means the same.
const Latest = -1

type migration struct {
	version  int
	name     string
	up, down string
}

func loadMigrations(dialect string) ([]migration, error) {
	dir := "migrations/" + dialect
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations for %q: %w", dialect, err)
	}
	byVersion := make(map[int]*migration)
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		v, _ := strconv.Atoi(m[1])
		b, err := fs.ReadFile(migrationFiles, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		mg := byVersion[v]
		if mg == nil {
			mg = &migration{version: v, name: m[2]}
			byVersion[v] = mg
		}
		if m[3] == "up" {
			mg.up = string(b)
		} else {
			mg.down = string(b)
		}
	}
	out := make([]migration, 0, len(byVersion))
	for _, mg := range byVersion {
		if mg.up == "" {
			return nil, fmt.Errorf("migration %04d_%s has no up file", mg.version, mg.name)
		}
		out = append(out, *mg)
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	return out, nil
}

// SchemaVersion implements store.Maintenance.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.w.sql.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}

// Migrate implements store.Maintenance; a negative target means Latest.
// Each step runs in its own
// transaction together with its record in schema_migrations, so a failed
// step leaves the schema at the previous version.
func (s *Store) Migrate(ctx context.Context, target int) error {
	ms, err := loadMigrations(s.d.Name)
	if err != nil {
		return err
	}
	if target < 0 {
		target = 0
		if len(ms) > 0 {
			target = ms[len(ms)-1].version
		}
	}
	if target != 0 && !slices.ContainsFunc(ms, func(m migration) bool { return m.version == target }) {
		return fmt.Errorf("sqlstore: no migration %04d", target)
	}
	for {
		done, err := s.migrateStep(ctx, ms, target)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies or reverts one migration toward target, and reports
// whether target was already reached.
func (s *Store) migrateStep(ctx context.Context, ms []migration, target int) (bool, error) {
	tx, err := s.w.sql.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if s.d.MigrationLock != "" {
		if _, err := tx.ExecContext(ctx, s.d.MigrationLock); err != nil {
			return false, fmt.Errorf("sqlstore: migration lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at BIGINT NOT NULL)`); err != nil {
		return false, fmt.Errorf("sqlstore: schema_migrations: %w", err)
	}
	var cur int
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&cur); err != nil {
		return false, err
	}
	if cur == target {
		return true, tx.Commit()
	}
	if err := s.applyStep(ctx, tx, ms, cur, target); err != nil {
		return false, err
	}
	return false, tx.Commit()
}

func (s *Store) applyStep(ctx context.Context, tx *sql.Tx, ms []migration, cur, target int) error {
	rb := s.w.rb
	if cur < target {
		i := slices.IndexFunc(ms, func(m migration) bool { return m.version > cur })
		m := ms[i]
		if _, err := tx.ExecContext(ctx, m.up); err != nil {
			return fmt.Errorf("sqlstore: migration %04d_%s up: %w", m.version, m.name, err)
		}
		_, err := tx.ExecContext(ctx, rb.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
			m.version, m.name, nanos(s.now()))
		return err
	}
	i := slices.IndexFunc(ms, func(m migration) bool { return m.version == cur })
	if i < 0 {
		return fmt.Errorf("sqlstore: schema version %04d is newer than this program knows", cur)
	}
	m := ms[i]
	if m.down == "" {
		return fmt.Errorf("sqlstore: migration %04d_%s cannot be rolled back", m.version, m.name)
	}
	if _, err := tx.ExecContext(ctx, m.down); err != nil {
		return fmt.Errorf("sqlstore: migration %04d_%s down: %w", m.version, m.name, err)
	}
	_, err := tx.ExecContext(ctx, rb.rebind("DELETE FROM schema_migrations WHERE version = ?"), m.version)
	return err
}
