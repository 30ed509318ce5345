// Package pgtest starts a throwaway PostgreSQL server for tests and gives
// each test a fresh database on it.
//
// One server serves a whole test binary: starting one takes seconds, a
// database milliseconds. The server is started on first use and stopped by
// Main, which a package's TestMain calls; should the test binary die
// without it, the server gets SIGQUIT from the kernel (parent-death
// signal) and exits. That one server per process is the package's only
// package-level state, a sync.Once guarded value, because a test binary is
// the unit that owns it.
//
// The server listens on 127.0.0.1 on a free port, keeps its socket in its
// temporary directory, and runs with fsync off: test data need not survive
// a crash. PostgreSQL refuses to run as root, so when the tests run as
// root the server runs as the "postgres" system user.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// process is the server of this test binary.
var process server

type server struct {
	once sync.Once
	err  error  // why the server could not start
	skip string // set when PostgreSQL is not installed

	dir    string
	port   int
	cmd    *exec.Cmd
	exited chan error // receives cmd.Wait's result
}

// Start returns the DSN of a new, empty database for t, dropped when t
// ends. It skips t when PostgreSQL is not installed.
func Start(t testing.TB) string {
	t.Helper()
	process.once.Do(process.start)
	if process.skip != "" {
		t.Skip(process.skip)
	}
	if process.err != nil {
		t.Fatalf("pgtest: %v", process.err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	name := "t_" + hex.EncodeToString(rnd[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := process.admin(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := process.admin(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: dropping %s: %v", name, err)
		}
	})
	return process.dsn(name)
}

// Main runs the tests and then stops the server, if one was started:
// call it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	process.stop()
	return code
}

func (s *server) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// admin runs one statement in the postgres database.
func (s *server) admin(ctx context.Context, stmt string) error {
	c, err := pgx.Connect(ctx, s.dsn("postgres"))
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	_, err = c.Exec(ctx, stmt)
	return err
}

// binDir finds the directory of initdb and postgres: the newest Debian
// /usr/lib/postgresql/N/bin, else the PATH.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	p, err := exec.LookPath("initdb")
	if err != nil {
		return "", errors.New("PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin or PATH)")
	}
	return filepath.Dir(p), nil
}

func (s *server) start() {
	bin, err := binDir()
	if err != nil {
		s.skip = "pgtest: " + err.Error()
		return
	}
	cred, err := credential()
	if err != nil {
		s.err = err
		return
	}
	if s.dir, err = os.MkdirTemp("", "pgtest-"); err != nil {
		s.err = err
		return
	}
	if cred != nil {
		if err := os.Chown(s.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			s.err = err
			return
		}
	}
	data := filepath.Join(s.dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		s.err = fmt.Errorf("initdb: %v\n%s", err, out)
		return
	}
	// A free port can be taken by someone else before postgres binds
	// it; try a few.
	for range 3 {
		if s.err = s.run(bin, cred); s.err == nil {
			return
		}
	}
}

// credential returns the postgres user's identity when running as root.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and no postgres user to run PostgreSQL as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *server) run(bin string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	logPath := filepath.Join(s.dir, "postgres.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(s.dir, "data"),
		"-h", "127.0.0.1", "-p", strconv.Itoa(port), "-k", s.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=64MB")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s.port, s.cmd, s.exited = port, cmd, exited
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := pgx.Connect(ctx, s.dsn("postgres"))
		cancel()
		if err == nil {
			c.Close(context.Background())
			return nil
		}
		select {
		case err := <-exited:
			s.cmd = nil
			return fmt.Errorf("postgres exited: %v\n%s", err, tail(logPath))
		case <-time.After(100 * time.Millisecond):
		}
	}
	cmd.Process.Kill()
	<-exited
	s.cmd = nil
	return fmt.Errorf("postgres did not accept connections\n%s", tail(logPath))
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// stop shuts the server down (fast shutdown) and removes its files.
func (s *server) stop() {
	if s.cmd != nil {
		s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.exited:
		case <-time.After(20 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}
