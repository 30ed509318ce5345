// Command imap measures Freehold's IMAP server over its production
// storage: SQLite (fsynced commits) and the fs blob store in a data
// directory, a server on a loopback port with TLS.
//
// It reports:
//
//   - fetch: the time to FETCH the headers of -fetch messages, once as
//     BODY.PEEK[HEADER.FIELDS (From Subject Date)] and once as ENVELOPE
//     (one UID FETCH command over the whole range, until its tagged OK);
//   - search: SELECT of a -search message mailbox, then SEARCH over all of
//     it with flag-only, envelope (FROM, SUBJECT) and combined criteria;
//   - append: APPEND throughput, -append messages of -size bytes over -c
//     concurrent connections, each APPEND acknowledged only when durable;
//   - idle: the memory one idling connection costs the server. A child
//     process (this program again, with -idle-client) opens -idle TLS
//     connections spread over -idle-accounts accounts; each logs in,
//     selects INBOX and enters IDLE. The server process then forces two
//     garbage collections and compares runtime.MemStats with the figures
//     taken before the connections existed: live heap (HeapAlloc) plus
//     goroutine stacks (StackInuse), divided by the number of connections.
//     Kernel socket buffers are not counted. Last, one message is delivered
//     to every account and the child reports how long until every
//     connection has seen its EXISTS.
//
// Usage:
//
//	go run ./bench/imap [-fetch 10000] [-search 100000] [-append 2000]
//	    [-size 4096] [-c 8] [-idle 1000] [-idle-accounts 1] [-only name]
//	    [-dir path] [-cpuprofile file]
package main

import (
	"bufio"
	"compress/flate"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"freehold/internal/auth"
	"freehold/internal/blob"
	blobfs "freehold/internal/blob/fs"
	"freehold/internal/imapserver"
	"freehold/internal/message"
	"freehold/internal/store"
	"freehold/internal/store/sqlite"
	"freehold/internal/tlsutil"
)

const password = "bench password"

type config struct {
	fetch, search, appendN, size, conc, idle, idleAccounts int
	only, dir                                              string
	idleCompress                                           bool
}

func main() {
	var cfg config
	flag.IntVar(&cfg.fetch, "fetch", 10000, "messages whose headers are fetched")
	flag.IntVar(&cfg.search, "search", 100000, "messages in the searched mailbox")
	flag.IntVar(&cfg.appendN, "append", 2000, "messages to APPEND")
	flag.IntVar(&cfg.size, "size", 4096, "size of appended messages")
	flag.IntVar(&cfg.conc, "c", 8, "concurrent APPEND connections")
	flag.IntVar(&cfg.idle, "idle", 1000, "idling TLS connections")
	flag.IntVar(&cfg.idleAccounts, "idle-accounts", 1, "accounts the idling connections log in to")
	flag.BoolVar(&cfg.idleCompress, "idle-compress", false, "idling connections use COMPRESS=DEFLATE")
	flag.StringVar(&cfg.only, "only", "", "run one benchmark: fetch, search, append or idle")
	flag.StringVar(&cfg.dir, "dir", "", "data directory (default: temporary)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	idleClient := flag.Bool("idle-client", false, "internal: run as the idle client process")
	addr := flag.String("addr", "", "internal: server address for -idle-client")
	flag.Parse()
	if *idleClient {
		if err := runIdleClient(*addr, cfg); err != nil {
			fmt.Println("ERROR", err)
			os.Exit(1)
		}
		return
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(cfg); err != nil {
		log.Print(err)
		return
	}
}

// env is the server under test and its storage.
type env struct {
	st    store.Store
	blobs blob.Store
	srv   *imapserver.Server
	addr  string
	tls   *tls.Config
}

func run(cfg config) error {
	ctx := context.Background()
	dir := cfg.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "imapbench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "store.db"), sqlite.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	blobs, err := blobfs.Open(ctx, filepath.Join(dir, "blobs"), st)
	if err != nil {
		return err
	}
	defer blobs.Close()
	if err := st.AddDomain(ctx, "example.org"); err != nil {
		return err
	}
	certPEM, keyPEM, err := tlsutil.SelfSigned([]string{"localhost", "127.0.0.1"}, time.Now())
	if err != nil {
		return err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return err
	}
	e := &env{st: st, blobs: blobs, tls: &tls.Config{InsecureSkipVerify: true}}
	e.srv = imapserver.New(imapserver.Options{
		TLSConfig:   &tls.Config{Certificates: []tls.Certificate{cert}},
		ImplicitTLS: true, // imaps: every connection is TLS from the start
		Store:       st, Blobs: blobs, Auth: auth.NewAuthenticator(st),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	e.addr = ln.Addr().String()
	go e.srv.Serve(ln)
	defer e.srv.Shutdown(ctx)

	fmt.Printf("Freehold IMAP benchmark, %s, GOMAXPROCS=%d, data in %s\n", runtime.Version(), runtime.GOMAXPROCS(0), dir)
	steps := []struct {
		name string
		fn   func(*env, config) error
	}{{"idle", benchIdle}, {"fetch", benchFetch}, {"search", benchSearch}, {"append", benchAppend}}
	for _, s := range steps {
		if cfg.only != "" && cfg.only != s.name {
			continue
		}
		if err := s.fn(e, cfg); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

// account creates an account with messages in INBOX, appended by many
// goroutines so that the store's group commit batches them.
func (e *env) account(addr string, n int) (store.Account, error) {
	ctx := context.Background()
	h, err := auth.Hash(password, auth.Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		return store.Account{}, err
	}
	a, err := e.st.CreateAccount(ctx, store.NewAccount{Address: addr, PasswordHash: h})
	if err != nil {
		return a, err
	}
	if n == 0 {
		return a, nil
	}
	mb, err := e.st.MailboxByName(ctx, a.ID, "INBOX")
	if err != nil {
		return a, err
	}
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				raw := benchMessage(i, 0)
				id, size, err := e.blobs.Put(ctx, strings.NewReader(raw))
				if err != nil {
					errs <- err
					return
				}
				env, preview, att := message.Summarize([]byte(raw))
				var kws []string
				if i%3 == 0 {
					kws = []string{store.KeywordSeen}
				}
				if i%50 == 0 {
					kws = append(kws, store.KeywordFlagged)
				}
				if _, err := e.st.Append(ctx, a.ID, mb.ID, store.NewMessage{
					BlobID: id, Size: size, ReceivedAt: time.Unix(1700000000+int64(i)*60, 0),
					Envelope: env, Preview: preview, HasAttachment: att, Keywords: kws,
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return a, err
	}
	fmt.Printf("  (populated %d messages in %v)\n", n, time.Since(start).Round(time.Millisecond))
	return a, nil
}

// benchMessage is a plausible message of at least pad bytes.
func benchMessage(i, pad int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Return-Path: <sender%d@example.net>\r\nReceived: from mx.example.net by mx.example.org; Tue, 14 Nov 2023 22:13:20 +0000\r\n", i%97)
	fmt.Fprintf(&sb, "From: Sender %d <sender%d@example.net>\r\nTo: Alice <alice@example.org>\r\n", i%97, i%97)
	fmt.Fprintf(&sb, "Subject: Report number %d about topic %d\r\nDate: Tue, 14 Nov 2023 22:%02d:00 +0000\r\n", i, i%13, i%60)
	fmt.Fprintf(&sb, "Message-ID: <bench%d@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", i)
	sb.WriteString("Hello,\r\n\r\nthis is the body of a benchmark message, long enough to look like mail.\r\n")
	for sb.Len() < pad {
		sb.WriteString("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n")
	}
	return sb.String()
}

// client is a minimal IMAP client for timing.
type client struct {
	c    net.Conn
	r    *bufio.Reader
	tagN int
}

func (e *env) dial(user string) (*client, error) {
	c, err := tls.Dial("tcp", e.addr, e.tls)
	if err != nil {
		return nil, err
	}
	cl := &client{c: c, r: bufio.NewReaderSize(c, 64<<10)}
	if _, err := cl.r.ReadString('\n'); err != nil {
		return nil, err
	}
	if _, err := cl.cmd(fmt.Sprintf("LOGIN %s %q", user, password)); err != nil {
		return nil, err
	}
	return cl, nil
}

// cmd runs a command and returns how many untagged responses it got.
func (cl *client) cmd(s string) (int, error) {
	cl.tagN++
	tag := "b" + strconv.Itoa(cl.tagN)
	if _, err := fmt.Fprintf(cl.c, "%s %s\r\n", tag, s); err != nil {
		return 0, err
	}
	return cl.wait(tag)
}

func (cl *client) wait(tag string) (int, error) {
	n := 0
	for {
		line, err := cl.r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return n, err
		}
		if len(line) > 0 && line[0] == '*' {
			n++
		}
		if lit := literalLen(line); lit > 0 {
			// The response goes on after the literal; its rest is read
			// as the next "line" and not counted.
			if _, err := cl.r.Discard(lit); err != nil {
				return n, err
			}
			continue
		}
		if len(line) > 0 && line[0] == '*' {
			continue
		}
		if strings.HasPrefix(string(line), tag+" ") {
			if !strings.HasPrefix(string(line), tag+" OK") {
				return n, fmt.Errorf("%s", strings.TrimSpace(string(line)))
			}
			return n, nil
		}
	}
}

// compress turns on COMPRESS=DEFLATE for the rest of the session.
func (cl *client) compress() error {
	if _, err := cl.cmd("COMPRESS DEFLATE"); err != nil {
		return err
	}
	fw, err := flate.NewWriter(cl.c, flate.BestSpeed)
	if err != nil {
		return err
	}
	cl.c = &flateConn{Conn: cl.c, r: flate.NewReader(cl.r), w: fw}
	cl.r = bufio.NewReader(cl.c)
	return nil
}

// flateConn is a client connection after COMPRESS: every write is
// compressed and sync-flushed.
type flateConn struct {
	net.Conn
	r io.Reader
	w *flate.Writer
}

func (f *flateConn) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *flateConn) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = f.w.Flush()
	}
	return n, err
}

func literalLen(line []byte) int {
	s := strings.TrimRight(string(line), "\r\n")
	if !strings.HasSuffix(s, "}") {
		return 0
	}
	i := strings.LastIndexByte(s, '{')
	if i < 0 {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSuffix(s[i+1:len(s)-1], "+"))
	return n
}

func timed(runs int, fn func() error) (best, first time.Duration, err error) {
	for i := 0; i < runs; i++ {
		start := time.Now()
		if err := fn(); err != nil {
			return 0, 0, err
		}
		d := time.Since(start)
		if i == 0 {
			first, best = d, d
		}
		best = min(best, d)
	}
	return best, first, nil
}

func benchFetch(e *env, cfg config) error {
	fmt.Printf("\nfetch: headers of %d messages\n", cfg.fetch)
	if _, err := e.account("fetch@example.org", cfg.fetch); err != nil {
		return err
	}
	cl, err := e.dial("fetch@example.org")
	if err != nil {
		return err
	}
	defer cl.c.Close()
	if _, err := cl.cmd("SELECT INBOX"); err != nil {
		return err
	}
	for _, item := range []string{"BODY.PEEK[HEADER.FIELDS (From Subject Date)]", "ENVELOPE", "(UID FLAGS RFC822.SIZE INTERNALDATE)"} {
		var got int
		best, first, err := timed(3, func() error {
			n, err := cl.cmd(fmt.Sprintf("UID FETCH 1:* %s", item))
			got = n
			return err
		})
		if err != nil {
			return err
		}
		if got != cfg.fetch {
			return fmt.Errorf("FETCH %s returned %d messages", item, got)
		}
		fmt.Printf("  UID FETCH 1:* %-45s first %6d ms, best of 3 %6d ms (%.0f msgs/s)\n",
			item, first.Milliseconds(), best.Milliseconds(), float64(cfg.fetch)/best.Seconds())
	}
	return nil
}

func benchSearch(e *env, cfg config) error {
	fmt.Printf("\nsearch: mailbox of %d messages\n", cfg.search)
	if _, err := e.account("search@example.org", cfg.search); err != nil {
		return err
	}
	cl, err := e.dial("search@example.org")
	if err != nil {
		return err
	}
	defer cl.c.Close()
	start := time.Now()
	if _, err := cl.cmd("SELECT INBOX"); err != nil {
		return err
	}
	fmt.Printf("  SELECT INBOX                                   %6d ms\n", time.Since(start).Milliseconds())
	for _, q := range []string{
		"UID SEARCH UNSEEN FLAGGED",
		"UID SEARCH RETURN (COUNT) SINCE 1-Jan-2024",
		"UID SEARCH RETURN (COUNT) FROM sender42",
		`UID SEARCH RETURN (COUNT) SUBJECT "number 99999"`,
		"UID SEARCH RETURN (COUNT) OR FLAGGED SUBJECT topic",
		"UID SEARCH RETURN (COUNT) BODY ipsum",
	} {
		best, first, err := timed(3, func() error { _, err := cl.cmd(q); return err })
		if err != nil {
			return err
		}
		fmt.Printf("  %-46s first %6d ms, best of 3 %6d ms\n", q, first.Milliseconds(), best.Milliseconds())
	}
	return nil
}

func benchAppend(e *env, cfg config) error {
	fmt.Printf("\nappend: %d messages of %d bytes over %d connections\n", cfg.appendN, cfg.size, cfg.conc)
	if _, err := e.account("append@example.org", 0); err != nil {
		return err
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, cfg.conc)
	start := time.Now()
	for w := 0; w < cfg.conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, err := e.dial("append@example.org")
			if err != nil {
				errs <- err
				return
			}
			defer cl.c.Close()
			for {
				i := int(next.Add(1)) - 1
				if i >= cfg.appendN {
					return
				}
				msg := benchMessage(1_000_000+i, cfg.size)
				if _, err := cl.cmd(fmt.Sprintf("APPEND INBOX {%d+}\r\n%s", len(msg), msg)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	d := time.Since(start)
	fmt.Printf("  %d APPENDs in %d ms: %.0f msgs/s\n", cfg.appendN, d.Milliseconds(), float64(cfg.appendN)/d.Seconds())
	return nil
}

// memNow returns live heap plus goroutine stacks after full collections.
func memNow() (heap, stack uint64, goroutines int) {
	var ms runtime.MemStats
	for i := 0; i < 2; i++ {
		runtime.GC()
	}
	debug.FreeOSMemory()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.StackInuse, runtime.NumGoroutine()
}

func benchIdle(e *env, cfg config) error {
	fmt.Printf("\nidle: %d TLS connections in IDLE over %d account(s), COMPRESS %v\n", cfg.idle, cfg.idleAccounts, cfg.idleCompress)
	accts := make([]store.AccountID, cfg.idleAccounts)
	for i := range accts {
		a, err := e.account(fmt.Sprintf("idle%d@example.org", i), 1)
		if err != nil {
			return err
		}
		accts[i] = a.ID
	}
	heap0, stack0, g0 := memNow()
	child := exec.Command(os.Args[0], "-idle-client", "-addr", e.addr,
		"-idle", strconv.Itoa(cfg.idle), "-idle-accounts", strconv.Itoa(cfg.idleAccounts),
		"-idle-compress="+strconv.FormatBool(cfg.idleCompress))
	child.Stderr = os.Stderr
	in, err := child.StdinPipe()
	if err != nil {
		return err
	}
	out, err := child.StdoutPipe()
	if err != nil {
		return err
	}
	if err := child.Start(); err != nil {
		return err
	}
	defer child.Wait()
	defer in.Close()
	lines := bufio.NewScanner(out)
	expect := func(prefix string) (string, error) {
		for lines.Scan() {
			l := lines.Text()
			if strings.HasPrefix(l, "ERROR") {
				return "", errors.New(l)
			}
			if strings.HasPrefix(l, prefix) {
				return strings.TrimSpace(strings.TrimPrefix(l, prefix)), nil
			}
		}
		return "", io.ErrUnexpectedEOF
	}
	setup, err := expect("READY")
	if err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	heap1, stack1, g1 := memNow()
	n := uint64(cfg.idle)
	fmt.Printf("  connections set up in %s ms\n", setup)
	fmt.Printf("  server heap %+.1f KB, stacks %+.1f KB, goroutines %+d\n",
		(float64(heap1)-float64(heap0))/1024, (float64(stack1)-float64(stack0))/1024, g1-g0)
	fmt.Printf("  per connection: heap %.1f KB + stack %.1f KB = %.1f KB\n",
		(float64(heap1)-float64(heap0))/1024/float64(n), (float64(stack1)-float64(stack0))/1024/float64(n),
		(float64(heap1+stack1)-float64(heap0+stack0))/1024/float64(n))

	// One delivery to every account wakes every idler.
	raw := benchMessage(424242, 0)
	id, size, err := e.blobs.Put(context.Background(), strings.NewReader(raw))
	if err != nil {
		return err
	}
	env, preview, att := message.Summarize([]byte(raw))
	var targets []store.DeliveryTarget
	for _, a := range accts {
		targets = append(targets, store.DeliveryTarget{Account: a})
	}
	start := time.Now()
	if _, err := e.st.Deliver(context.Background(), store.Delivery{
		Message: store.NewMessage{BlobID: id, Size: size, ReceivedAt: time.Now(), Envelope: env, Preview: preview, HasAttachment: att},
		Targets: targets,
	}); err != nil {
		return err
	}
	fmt.Fprintln(in, "GO")
	woke, err := expect("WOKE")
	if err != nil {
		return err
	}
	fmt.Printf("  delivery to all idlers: committed in %d ms, every connection saw EXISTS after %s ms\n",
		time.Since(start).Milliseconds(), woke)
	return nil
}

// runIdleClient is the child process: it opens the connections, idles,
// and reports when all of them have seen the delivery.
func runIdleClient(addr string, cfg config) error {
	n, accounts := cfg.idle, cfg.idleAccounts
	start := time.Now()
	conns := make([]*client, n)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			e := &env{addr: addr, tls: &tls.Config{InsecureSkipVerify: true}}
			cl, err := e.dial(fmt.Sprintf("idle%d@example.org", i%accounts))
			if err == nil && cfg.idleCompress {
				err = cl.compress()
			}
			if err == nil {
				_, err = cl.cmd("SELECT INBOX")
			}
			if err == nil {
				_, err = fmt.Fprintf(cl.c, "i IDLE\r\n")
			}
			if err == nil {
				var l string
				l, err = cl.r.ReadString('\n')
				if err == nil && !strings.HasPrefix(l, "+") {
					err = fmt.Errorf("IDLE: %q", l)
				}
			}
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			conns[i] = cl
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	fmt.Printf("READY %d\n", time.Since(start).Milliseconds())
	stdin := bufio.NewScanner(os.Stdin)
	if !stdin.Scan() {
		return nil
	}
	t0 := time.Now()
	for _, cl := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				l, err := cl.r.ReadString('\n')
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				if strings.HasSuffix(strings.TrimSpace(l), "EXISTS") {
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	fmt.Printf("WOKE %d\n", time.Since(t0).Milliseconds())
	stdin.Scan()
	return nil
}
