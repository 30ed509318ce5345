package fs

import (
	"os"
	"sync"
)

// dirSyncer shares directory fsyncs between concurrent callers. A caller
// needs a sync that starts after its rename; while one sync of a directory
// runs, callers for that directory queue, and the next sync serves them
// all.
type dirSyncer struct {
	mu   sync.Mutex // guards dirs and every dirState
	dirs map[string]*dirState
}

type dirState struct {
	running bool         // a goroutine is syncing this directory
	waiters []chan error // callers waiting for the next sync
}

func newDirSyncer() *dirSyncer {
	return &dirSyncer{dirs: make(map[string]*dirState)}
}

// sync returns after an fsync of dir that started after the call.
func (d *dirSyncer) sync(dir string) error {
	ch := make(chan error, 1)
	d.mu.Lock()
	st := d.dirs[dir]
	if st == nil {
		st = &dirState{}
		d.dirs[dir] = st
	}
	st.waiters = append(st.waiters, ch)
	leader := !st.running
	st.running = true
	d.mu.Unlock()
	if leader {
		d.run(dir, st)
	}
	return <-ch
}

// run does one sync of dir for the callers waiting now. If more arrived
// meanwhile, a new goroutine serves them, so that the caller that started
// the round is not held up by later ones.
func (d *dirSyncer) run(dir string, st *dirState) {
	d.mu.Lock()
	ws := st.waiters
	st.waiters = nil
	d.mu.Unlock()
	err := fsyncDir(dir)
	for _, w := range ws {
		w <- err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(st.waiters) == 0 {
		st.running = false
		delete(d.dirs, dir)
		return
	}
	go d.run(dir, st)
}

func fsyncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
