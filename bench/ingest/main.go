// Command ingest measures how fast Freehold's MX accepts mail with every
// acknowledged message durable.
//
// It starts an in-process MX over SQLite and the fs blob store in a data
// directory (production settings: every 250 follows an fsynced commit),
// then opens -c concurrent SMTP connections on loopback. Each connection
// says EHLO once and sends messages of -size bytes, one after the other
// (MAIL, RCPT, DATA pipelined as a PIPELINING client does; a new MAIL
// after each 250, an RSET every tenth message), reconnecting after
// -per-conn messages, until -n messages were accepted in total. Every
// message is distinct, so content-addressed storage cannot deduplicate
// them, and goes to one of -accounts accounts.
//
// It reports messages per second from the first connect until the last
// message is readable in the store (its mailbox counts are checked and a
// sample of bodies is read back), and the p50, p99 and maximum latency of
// the reply to the end of DATA.
//
// Usage:
//
//	go run ./bench/ingest [flags]
//
// Flags:
//
//	-n 20000          messages to send in total
//	-c 20             concurrent connections
//	-size 5120        message size in bytes
//	-per-conn 100     messages per connection before reconnecting
//	-accounts 20      recipient accounts (messages go round-robin)
//	-dir ""           data directory (default: a temporary one, removed)
//	-maillog true     write the mail-event log to a file in the data dir
//	-cpuprofile file  write a CPU profile of the run
//	-mutexprofile file, -blockprofile file  contention profiles
//	-diag-memblobs    diagnostic only, NOT durable: keep blobs in memory,
//	                  to see how fast the rest of the pipeline is
//	-verify           run the MX's SPF/DKIM/DMARC checks (msgauth.Verifier)
//	                  against a DNS server on loopback that publishes SPF and
//	                  DMARC p=none for the senders' domain: two or three
//	                  uncached DNS round trips per message
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"freehold/internal/blob"
	"freehold/internal/blob/fs"
	"freehold/internal/blob/memblob"
	"freehold/internal/delivery"
	"freehold/internal/dnsutil"
	"freehold/internal/maillog"
	"freehold/internal/msgauth"
	"freehold/internal/smtpserver"
	"freehold/internal/store"
	"freehold/internal/store/sqlite"
	"freehold/internal/testutil/dnstest"
)

type config struct {
	n, conns, size, perConn, accounts      int
	dir                                    string
	maillog, memBlobs, verify              bool
	cpuProfile, mutexProfile, blockProfile string
}

func main() {
	var cfg config
	flag.IntVar(&cfg.n, "n", 20000, "messages to send in total")
	flag.IntVar(&cfg.conns, "c", 20, "concurrent connections")
	flag.IntVar(&cfg.size, "size", 5120, "message size in bytes")
	flag.IntVar(&cfg.perConn, "per-conn", 100, "messages per connection before reconnecting")
	flag.IntVar(&cfg.accounts, "accounts", 20, "recipient accounts")
	flag.StringVar(&cfg.dir, "dir", "", "data directory (default: a temporary one, removed afterwards)")
	flag.BoolVar(&cfg.maillog, "maillog", true, "write the mail-event log to a file in the data directory")
	flag.BoolVar(&cfg.memBlobs, "diag-memblobs", false, "diagnostic, NOT durable: keep blobs in memory instead of the fs store")
	flag.BoolVar(&cfg.verify, "verify", false, "run the inbound SPF/DKIM/DMARC checks against a loopback DNS server")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile to this file")
	flag.StringVar(&cfg.mutexProfile, "mutexprofile", "", "write a mutex contention profile to this file")
	flag.StringVar(&cfg.blockProfile, "blockprofile", "", "write a blocking profile to this file")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

// env is the server under test.
type env struct {
	st       store.Store
	blobs    blob.Store
	srv      *smtpserver.Server
	addr     string
	accounts []store.Account
	phases   *phases
	closeAll func()
}

// phases accumulates the wall-clock time spent in the two durable steps
// of a delivery, to tell where a slow run waits.
type phases struct {
	put, deliver   atomic.Int64 // nanoseconds
	puts, delivers atomic.Int64
}

type timedBlobs struct {
	blob.Store
	p *phases
}

// timedInliner is timedBlobs for a blob.Inliner (blob/fs), so that the
// Deliverer still writes small bodies with their message.
type timedInliner struct {
	timedBlobs
	in blob.Inliner
}

// Encode times blob.Inliner's Encode, the blob's whole cost on the
// delivery path when it is written with the message.
func (t timedInliner) Encode(raw []byte) (blob.ID, []byte, bool) {
	start := time.Now()
	id, data, inline := t.in.Encode(raw)
	t.p.put.Add(int64(time.Since(start)))
	t.p.puts.Add(1)
	return id, data, inline
}

func (t timedInliner) PutEncoded(ctx context.Context, id blob.ID, data []byte) error {
	start := time.Now()
	err := t.in.PutEncoded(ctx, id, data)
	t.p.put.Add(int64(time.Since(start)))
	return err
}

// timed wraps blobs for the phase timings.
func timed(blobs blob.Store, p *phases) blob.Store {
	t := timedBlobs{blobs, p}
	if in, ok := blobs.(blob.Inliner); ok {
		return timedInliner{t, in}
	}
	return t
}

func (t timedBlobs) Put(ctx context.Context, r io.Reader) (blob.ID, int64, error) {
	start := time.Now()
	id, n, err := t.Store.Put(ctx, r)
	t.p.put.Add(int64(time.Since(start)))
	t.p.puts.Add(1)
	return id, n, err
}

type timedTarget struct {
	delivery.Store
	p *phases
}

func (t timedTarget) Deliver(ctx context.Context, d store.Delivery) ([]store.Delivered, error) {
	start := time.Now()
	out, err := t.Store.Deliver(ctx, d)
	t.p.deliver.Add(int64(time.Since(start)))
	t.p.delivers.Add(1)
	return out, err
}

func avg(total, n *atomic.Int64) time.Duration {
	if n.Load() == 0 {
		return 0
	}
	return time.Duration(total.Load() / n.Load()).Round(10 * time.Microsecond)
}

func run(cfg config) error {
	ctx := context.Background()
	if cfg.dir == "" {
		d, err := os.MkdirTemp("", "freehold-ingest-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		cfg.dir = d
	}
	e, err := setup(ctx, cfg)
	if err != nil {
		return err
	}
	defer e.closeAll()
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if cfg.mutexProfile != "" {
		runtime.SetMutexProfileFraction(5)
		defer writeProfile("mutex", cfg.mutexProfile)
	}
	if cfg.blockProfile != "" {
		runtime.SetBlockProfileRate(10000)
		defer writeProfile("block", cfg.blockProfile)
	}

	fmt.Printf("ingest: %d messages of %d bytes over %d connections (%d per connection), %d accounts, verify=%v, GOMAXPROCS=%d\n",
		cfg.n, cfg.size, cfg.conns, cfg.perConn, cfg.accounts, cfg.verify, runtime.GOMAXPROCS(0))
	ru0 := rusage()
	start := time.Now()
	lat, err := send(cfg, e.addr)
	if err != nil {
		return err
	}
	acked := time.Since(start)
	if err := verify(ctx, cfg, e); err != nil {
		return err
	}
	total := time.Since(start)
	ru1 := rusage()
	slices.Sort(lat)
	fmt.Printf("accepted %d messages in %v (all 250s in %v)\n", len(lat), total.Round(time.Millisecond), acked.Round(time.Millisecond))
	fmt.Printf("throughput: %.0f msg/s (first connect to last message readable)\n", float64(len(lat))/total.Seconds())
	fmt.Printf("DATA reply latency: p50 %v  p99 %v  max %v\n", pct(lat, 50), pct(lat, 99), lat[len(lat)-1])
	fmt.Printf("mean time per message in blob Encode/Put %v, in store Deliver %v\n",
		avg(&e.phases.put, &e.phases.puts), avg(&e.phases.deliver, &e.phases.delivers))
	n := time.Duration(len(lat))
	fmt.Printf("CPU per message (server and clients): user %v, system %v\n",
		((ru1.user - ru0.user) / n).Round(time.Microsecond), ((ru1.sys - ru0.sys) / n).Round(time.Microsecond))
	if ru1.written > 0 {
		fmt.Printf("written to disk per message: %.1f KiB (the database's log and checkpoints, blob files)\n",
			float64(ru1.written-ru0.written)/float64(len(lat))/1024)
	}
	return nil
}

type cpuTimes struct {
	user, sys time.Duration
	written   int64 // bytes this process caused to be written to disk; 0 where unknown
}

// rusage returns the CPU time used by this process so far.
func rusage() cpuTimes {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return cpuTimes{}
	}
	return cpuTimes{time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano()), diskWritten()}
}

// diskWritten reads write_bytes of /proc/self/io (Linux): what reached
// the disk, as opposed to what write calls were given.
func diskWritten() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

func writeProfile(name, path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		return
	}
	defer f.Close()
	pprof.Lookup(name).WriteTo(f, 0)
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))].Round(10 * time.Microsecond)
}

// setup opens the stores, creates the accounts and starts the MX.
func setup(ctx context.Context, cfg config) (*env, error) {
	st, err := sqlite.Open(ctx, filepath.Join(cfg.dir, "freehold.db"), sqlite.Options{})
	if err != nil {
		return nil, err
	}
	var blobs blob.Store
	if cfg.memBlobs {
		fmt.Println("DIAGNOSTIC RUN: blobs are kept in memory, acknowledged messages are NOT durable")
		blobs = memblob.New()
	} else if blobs, err = fs.Open(ctx, filepath.Join(cfg.dir, "blobs"), st); err != nil {
		st.Close()
		return nil, err
	}
	e := &env{st: st, blobs: blobs}
	if err := st.AddDomain(ctx, "example.org"); err != nil {
		return nil, err
	}
	for i := 0; i < cfg.accounts; i++ {
		a, err := st.CreateAccount(ctx, store.NewAccount{Address: fmt.Sprintf("user%d@example.org", i)})
		if err != nil {
			return nil, err
		}
		e.accounts = append(e.accounts, a)
	}
	var mlog *maillog.Logger
	var mlogFile *os.File
	if cfg.maillog {
		if mlogFile, err = os.Create(filepath.Join(cfg.dir, "mail.log")); err != nil {
			return nil, err
		}
		mlog = maillog.New(slog.New(slog.NewJSONHandler(mlogFile, nil)))
	}
	e.phases = &phases{}
	dl, err := delivery.NewDeliverer(delivery.DelivererOptions{
		Target: timedTarget{st, e.phases}, Blobs: timed(blobs, e.phases),
		Hostname: "mx.bench", MailLog: mlog,
	})
	if err != nil {
		return nil, err
	}
	var verifier smtpserver.Verifier
	stopDNS := func() {}
	if cfg.verify {
		v, stop, err := benchVerifier()
		if err != nil {
			return nil, err
		}
		verifier, stopDNS = v, stop
	}
	srv, err := smtpserver.New(smtpserver.Options{
		Mode: smtpserver.ModeMX, Hostname: "mx.bench",
		Resolver:  delivery.NewResolver(st, delivery.ResolverOptions{}),
		Deliverer: dl, Usage: st, Verifier: verifier,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})),
		MailLog: mlog,
	})
	if err != nil {
		stopDNS()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e.srv, e.addr = srv, ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	e.closeAll = func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		<-served
		stopDNS()
		st.Close()
		if mlogFile != nil {
			mlogFile.Close()
		}
	}
	return e, nil
}

// send runs the clients and returns the DATA reply latencies.
func send(cfg config, addr string) ([]time.Duration, error) {
	var (
		next    atomic.Int64 // next message number to send
		mu      sync.Mutex
		lat     = make([]time.Duration, 0, cfg.n)
		firstEr error
		wg      sync.WaitGroup
	)
	for w := 0; w < cfg.conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			var local []time.Duration
			err := client(cfg, addr, rng, &next, &local)
			mu.Lock()
			lat = append(lat, local...)
			if err != nil && firstEr == nil {
				firstEr = err
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	if firstEr != nil {
		return nil, firstEr
	}
	if len(lat) != cfg.n {
		return nil, fmt.Errorf("%d messages acknowledged, want %d", len(lat), cfg.n)
	}
	return lat, nil
}

// client sends messages over successive connections until none are left.
func client(cfg config, addr string, rng *rand.Rand, next *atomic.Int64, lat *[]time.Duration) error {
	for {
		done, err := session(cfg, addr, rng, next, lat)
		if err != nil || done {
			return err
		}
	}
}

// session is one connection: EHLO, up to perConn messages, QUIT. It
// reports whether all messages have been claimed.
func session(cfg config, addr string, rng *rand.Rand, next *atomic.Int64, lat *[]time.Duration) (bool, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return false, err
	}
	defer c.Close()
	r := bufio.NewReader(c)
	w := bufio.NewWriterSize(c, 16<<10)
	if err := expect(r, "220"); err != nil {
		return false, err
	}
	fmt.Fprintf(w, "EHLO client.bench\r\n")
	w.Flush()
	if err := expect(r, "250"); err != nil {
		return false, err
	}
	body := make([]byte, 0, cfg.size+256)
	for i := 0; i < cfg.perConn; i++ {
		n := next.Add(1) - 1
		if n >= int64(cfg.n) {
			fmt.Fprintf(w, "QUIT\r\n")
			w.Flush()
			return true, nil
		}
		if i > 0 && i%10 == 0 {
			fmt.Fprintf(w, "RSET\r\n")
		}
		rcpt := fmt.Sprintf("user%d@example.org", int(n)%cfg.accounts)
		fmt.Fprintf(w, "MAIL FROM:<sender%d@remote.example> SIZE=%d\r\nRCPT TO:<%s>\r\nDATA\r\n", n, cfg.size, rcpt)
		w.Flush()
		if i > 0 && i%10 == 0 {
			if err := expect(r, "250"); err != nil {
				return false, err
			}
		}
		for _, code := range []string{"250", "250", "354"} {
			if err := expect(r, code); err != nil {
				return false, fmt.Errorf("message %d: %w", n, err)
			}
		}
		body = message(body[:0], n, rcpt, cfg.size, rng)
		w.Write(body)
		w.WriteString(".\r\n")
		t0 := time.Now()
		w.Flush()
		if err := expect(r, "250"); err != nil {
			return false, fmt.Errorf("message %d: %w", n, err)
		}
		*lat = append(*lat, time.Since(t0))
	}
	fmt.Fprintf(w, "QUIT\r\n")
	w.Flush()
	return false, nil
}

// expect reads one reply and checks its code.
func expect(r *bufio.Reader, code string) error {
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasPrefix(l, code) {
			return fmt.Errorf("expected %s, got %q", code, strings.TrimSpace(l))
		}
		if len(l) > 3 && l[3] == ' ' {
			return nil
		}
	}
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// message renders message n: a plain header and random 76-column text
// lines up to size bytes, so that no two messages are equal.
func message(b []byte, n int64, rcpt string, size int, rng *rand.Rand) []byte {
	b = fmt.Appendf(b, "From: Sender %d <sender%d@remote.example>\r\nTo: <%s>\r\n"+
		"Subject: benchmark message %d\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n"+
		"Message-ID: <%d.bench@remote.example>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: text/plain; charset=us-ascii\r\n\r\nMessage %d.\r\n", n, n, rcpt, n, n, n)
	for len(b) < size-2 {
		line := min(76, size-2-len(b))
		for i := 0; i < line; i++ {
			b = append(b, alphabet[rng.IntN(len(alphabet))])
		}
		b = append(b, '\r', '\n')
	}
	return b
}

// verify checks that every message is readable: the mailbox counts add up
// to n, and a sample of bodies can be read back from the blob store.
func verify(ctx context.Context, cfg config, e *env) error {
	total := 0
	for i, a := range e.accounts {
		mb, err := e.st.MailboxByName(ctx, a.ID, "INBOX")
		if err != nil {
			return err
		}
		status, err := e.st.MailboxStatus(ctx, a.ID, mb.ID)
		if err != nil {
			return err
		}
		total += int(status.Messages)
		if i > 0 {
			continue
		}
		// Read back the bodies of the first account's last messages.
		entries, err := e.st.Entries(ctx, a.ID, mb.ID)
		if err != nil {
			return err
		}
		var ids []store.MessageID
		for _, en := range entries[max(0, len(entries)-20):] {
			ids = append(ids, en.MessageID)
		}
		msgs, err := e.st.Messages(ctx, a.ID, ids)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			raw, err := blob.ReadAll(ctx, e.blobs, m.BlobID)
			if err != nil {
				return fmt.Errorf("message %d unreadable: %w", m.ID, err)
			}
			if int64(len(raw)) != m.Size || !strings.Contains(string(raw), "Subject: benchmark message ") {
				return errors.New("stored message does not match what was sent")
			}
		}
	}
	if total != cfg.n {
		return fmt.Errorf("store holds %d messages, want %d", total, cfg.n)
	}
	return nil
}

// benchVerifier returns the real inbound checks over a DNS server on
// loopback publishing SPF (which passes for 127.0.0.1) and DMARC p=none
// for remote.example, the senders' domain.
func benchVerifier() (smtpserver.Verifier, func(), error) {
	srv, err := dnstest.Start()
	if err != nil {
		return nil, nil, err
	}
	srv.AddTXT("remote.example.", "v=spf1 ip4:127.0.0.0/8 -all")
	srv.AddTXT("_dmarc.remote.example.", "v=DMARC1; p=none")
	res, err := dnsutil.New(dnsutil.Options{Server: srv.Addr, Timeout: 2 * time.Second, Attempts: 2})
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	return msgauth.NewVerifier(msgauth.VerifierOptions{Resolver: res, Hostname: "mx.bench"}), srv.Close, nil
}
