// Command outbound measures Freehold's outbound path end to end: each
// message is DKIM-signed (Ed25519 and RSA-2048, as the submission server
// does when it accepts a message), stored durably (blob store and SQLite
// queue, fsynced), then claimed by the queue runner and sent over SMTP,
// with MX resolution through a DNS server, to Postfix's smtp-sink on
// loopback. It reports the submission rate and the end-to-end rate, from
// the first submission to the last message acknowledged by the sink.
//
// The SMTP submission dialogue itself (smtpserver) is not part of it.
//
// Run (as root, smtp-sink from the Debian postfix package):
//
//	go run ./bench/outbound -n 5000
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"freehold/internal/blob/fs"
	"freehold/internal/dnsutil"
	"freehold/internal/msgauth"
	"freehold/internal/queue"
	"freehold/internal/smtpclient"
	"freehold/internal/store"
	"freehold/internal/store/sqlite"
	"freehold/internal/testutil/dnstest"
)

type config struct {
	n, size, domains, submitters, concurrency, perDomain int
	sink, cpuprofile                                     string
	phased                                               bool
}

func main() {
	var c config
	flag.IntVar(&c.n, "n", 2000, "messages to send")
	flag.IntVar(&c.size, "size", 4096, "approximate message size in octets")
	flag.IntVar(&c.domains, "domains", 10, "distinct recipient domains")
	flag.IntVar(&c.submitters, "submitters", 8, "concurrent submitting goroutines")
	flag.IntVar(&c.concurrency, "concurrency", 20, "queue runner: attempts in flight")
	flag.IntVar(&c.perDomain, "per-domain", 4, "queue runner: attempts in flight per domain")
	flag.StringVar(&c.sink, "sink", "/usr/sbin/smtp-sink", "path of Postfix's smtp-sink")
	flag.BoolVar(&c.phased, "phased", false, "submit everything first, then start the queue runner (measures each phase alone)")
	flag.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if c.cpuprofile != "" {
		f, err := os.Create(c.cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "outbound:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(c); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "outbound:", err)
		os.Exit(1)
	}
}

// staticKeys signs every domain with the same two keys.
type staticKeys []msgauth.SigningKey

func (k staticKeys) SigningKeys(_ context.Context, domain string) ([]msgauth.SigningKey, error) {
	out := make([]msgauth.SigningKey, len(k))
	for i, key := range k {
		key.Domain = domain
		out[i] = key
	}
	return out, nil
}

// counting wraps the SMTP client to count outcomes.
type counting struct {
	c                            *smtpclient.Client
	delivered, temporary, failed atomic.Int64
}

func (c *counting) Deliver(ctx context.Context, domain string, env smtpclient.Envelope) smtpclient.Result {
	res := c.c.Deliver(ctx, domain, env)
	for _, r := range res.Rcpts {
		switch r.Outcome {
		case smtpclient.Delivered:
			c.delivered.Add(1)
		case smtpclient.Temporary:
			c.temporary.Add(1)
		default:
			c.failed.Add(1)
		}
	}
	return res
}

func run(c config) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "freehold-bench-outbound-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	port, stopSink, err := startSink(c.sink)
	if err != nil {
		return err
	}
	defer stopSink()

	dns, err := dnstest.Start()
	if err != nil {
		return err
	}
	defer dns.Close()
	for i := range c.domains {
		d := fmt.Sprintf("d%d.example", i)
		dns.Add(d+". 300 IN MX 10 mx."+d+".", "mx."+d+". 300 IN A 127.0.0.1")
	}
	res, err := dnsutil.New(dnsutil.Options{Server: dns.Addr})
	if err != nil {
		return err
	}

	st, err := sqlite.OpenStore(ctx, filepath.Join(dir, "db.sqlite"), sqlite.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	blobs, err := fs.Open(ctx, filepath.Join(dir, "blobs"), st)
	if err != nil {
		return err
	}
	defer blobs.Close()

	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	signer := msgauth.NewSigner(staticKeys{{Selector: "ed", Key: ed}, {Selector: "rs", Key: rk}})

	client := &counting{c: smtpclient.New(smtpclient.Options{Resolver: res, Hostname: "bench.freehold.test", Port: port})}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	runner := queue.New(queue.Options{Store: st, Blobs: blobs, Client: client, Hostname: "bench.freehold.test",
		Concurrency: c.concurrency, PerDomain: c.perDomain, Poll: 200 * time.Millisecond, Logger: quiet})
	rctx, stopRunner := context.WithCancel(ctx)
	defer stopRunner()
	runDone := make(chan struct{})
	startRunner := func() { go func() { runner.Run(rctx); close(runDone) }() }
	if !c.phased {
		startRunner()
	}

	fmt.Printf("outbound: %d messages of ~%d octets to %d domains, %d submitters, runner %d/%d per domain, smtp-sink on :%d\n",
		c.n, c.size, c.domains, c.submitters, c.concurrency, c.perDomain, port)
	start := time.Now()
	if err := submit(ctx, c, st, blobs, signer, runner.Kick); err != nil {
		stopRunner()
		return err
	}
	submitted := time.Since(start)
	if c.phased {
		start = time.Now()
		startRunner()
	}
	for {
		next, err := st.QueueNextDue(ctx)
		if err != nil {
			return err
		}
		if next.IsZero() {
			break
		}
		if client.temporary.Load()+client.failed.Load() > 0 {
			stopRunner()
			<-runDone
			return fmt.Errorf("%d temporary and %d permanent failures", client.temporary.Load(), client.failed.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	total := time.Since(start)
	stopRunner()
	<-runDone
	fmt.Printf("submission (sign + durable enqueue): %d msgs in %v = %.0f msgs/s\n", c.n, submitted.Round(time.Millisecond), float64(c.n)/submitted.Seconds())
	what := "end to end (submission to sink acknowledgement)"
	if c.phased {
		what = "delivery alone (queue to sink acknowledgement)"
	}
	fmt.Printf("%s: %d delivered in %v = %.0f msgs/s\n", what,
		client.delivered.Load(), total.Round(time.Millisecond), float64(client.delivered.Load())/total.Seconds())
	return nil
}

// submit signs and enqueues c.n messages with c.submitters goroutines.
func submit(ctx context.Context, c config, st store.Queue, blobs *fs.Store, signer *msgauth.Signer, kick func()) error {
	body := strings.Repeat("All work and no play makes Jack a dull boy.\r\n", max(1, c.size/45))
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, c.submitters)
	for range c.submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= c.n {
					return
				}
				if err := submitOne(ctx, i, c.domains, body, st, blobs, signer); err != nil {
					errs <- err
					return
				}
				kick()
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func submitOne(ctx context.Context, i, domains int, body string, st store.Queue, blobs *fs.Store, signer *msgauth.Signer) error {
	msg := fmt.Sprintf("From: Sender <sender@freehold.test>\r\nTo: <r%d@d%d.example>\r\nSubject: bench %d\r\n"+
		"Date: %s\r\nMessage-ID: <%d@freehold.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n%s",
		i, i%domains, i, time.Now().Format(time.RFC1123Z), i, body)
	sig, err := signer.Sign(ctx, []byte(msg))
	if err != nil {
		return err
	}
	raw := append(sig, msg...)
	id, size, err := blobs.Put(ctx, strings.NewReader(string(raw)))
	if err != nil {
		return err
	}
	_, err = st.Enqueue(ctx, store.OutboundMessage{Account: 1, MailFrom: "sender@freehold.test", BlobID: id, Size: size,
		Recipients: []store.OutboundRecipient{{Address: fmt.Sprintf("r%d@d%d.example", i, i%domains)}}})
	return err
}

// startSink runs smtp-sink on a free loopback port.
func startSink(path string) (int, func(), error) {
	if _, err := os.Stat(path); err != nil {
		return 0, nil, fmt.Errorf("smtp-sink not found (apt-get install postfix): %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	args := []string{"127.0.0.1:" + strconv.Itoa(port), "256"}
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "nobody"}, args...)
	}
	cmd := exec.Command(path, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, nil, err
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	for range 100 {
		conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			conn.Close()
			return port, stop, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return 0, nil, errors.New("smtp-sink did not start")
}
