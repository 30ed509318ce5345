package fs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// pack keeps small compressed blobs in one SQLite database (pack.db in the
// blob directory) written by a single goroutine that commits every waiting
// Put in one transaction: a batch of messages costs one flush of the disk,
// where a file per blob costs a flush of the file and of its directory
// each. Large blobs stay in files, where they cost no more than their
// writing.
//
// The database runs in WAL mode with synchronous=FULL, so a committed
// batch survives power loss, not only a crash of the process.
type pack struct {
	w, r *sql.DB
	reqs chan packReq
	done chan struct{} // closed when the writer goroutine exits

	// mu guards closed. Senders hold it shared while they send on reqs, so
	// that close never closes reqs under a sender; the writer keeps
	// draining reqs meanwhile, so a blocked sender always proceeds.
	mu     sync.RWMutex
	closed bool
}

type packReq struct {
	id   string
	data []byte
	errc chan error
}

// maxPackBatch bounds how many Puts share one commit.
const maxPackBatch = 256

func openPack(path string) (*pack, error) {
	const common = "_pragma=busy_timeout(10000)"
	w, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(`CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID`); err != nil {
		w.Close()
		return nil, fmt.Errorf("blob/fs: pack %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	p := &pack{w: w, r: r, reqs: make(chan packReq, maxPackBatch), done: make(chan struct{})}
	go p.writer()
	return p, nil
}

// put stores data under id and returns once it is committed.
func (p *pack) put(ctx context.Context, id string, data []byte) error {
	req := packReq{id: id, data: data, errc: make(chan error, 1)}
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		return errClosed
	}
	select {
	case p.reqs <- req:
		p.mu.RUnlock()
	case <-ctx.Done():
		p.mu.RUnlock()
		return ctx.Err()
	}
	// Once queued the write will happen; wait for it even if ctx ends, so
	// that the caller never believes a committed blob was not stored.
	return <-req.errc
}

var errClosed = errors.New("blob/fs: store closed")

// writer commits batches until reqs is closed.
func (p *pack) writer() {
	defer close(p.done)
	for first := range p.reqs {
		batch := []packReq{first}
	fill:
		for len(batch) < maxPackBatch {
			select {
			case r, ok := <-p.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		err := p.commit(batch)
		for _, r := range batch {
			r.errc <- err
		}
	}
}

func (p *pack) commit(batch []packReq) error {
	tx, err := p.w.Begin()
	if err != nil {
		return fmt.Errorf("blob/fs: pack: %w", err)
	}
	stmt, err := tx.Prepare(`INSERT INTO blobs (id, data) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`)
	if err == nil {
		for _, r := range batch {
			if _, err = stmt.Exec(r.id, r.data); err != nil {
				break
			}
		}
		stmt.Close()
	}
	if err != nil {
		tx.Rollback()
		return fmt.Errorf("blob/fs: pack: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("blob/fs: pack commit: %w", err)
	}
	return nil
}

// get returns the compressed bytes of id, or ok=false.
func (p *pack) get(ctx context.Context, id string) (data []byte, ok bool, err error) {
	err = p.r.QueryRowContext(ctx, `SELECT data FROM blobs WHERE id = ?`, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("blob/fs: pack: %w", err)
	}
	return data, true, nil
}

// has reports whether id is in the pack.
func (p *pack) has(ctx context.Context, id string) (bool, error) {
	var one int
	err := p.r.QueryRowContext(ctx, `SELECT 1 FROM blobs WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// remove deletes id and reports whether it was there.
func (p *pack) remove(ctx context.Context, id string) (bool, error) {
	res, err := p.w.ExecContext(ctx, `DELETE FROM blobs WHERE id = ?`, id)
	if err != nil {
		return false, fmt.Errorf("blob/fs: pack: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// close stops the writer after the queued Puts and closes the database.
func (p *pack) close() error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.reqs)
	}
	p.mu.Unlock()
	<-p.done
	return errors.Join(p.r.Close(), p.w.Close())
}
