// Package dnstest runs a small DNS server on 127.0.0.1 for tests. Its zone
// is set by the test as resource records in zone-file syntax; it answers
// like a recursive resolver would (following CNAMEs within its data, with
// wildcards), and can be told to misbehave for chosen names: SERVFAIL,
// silence (a timeout), or garbage bytes instead of a DNS message.
//
// It speaks both UDP and TCP on the same port, so a resolver configured
// with its Addr can fall back to TCP on truncation.
package dnstest

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"freehold/internal/dnsutil"
)

// Failure is a way to misbehave for a name.
type Failure int

const (
	// ServFail answers with RCODE 2 (a temporary error).
	ServFail Failure = iota + 1
	// Timeout never answers.
	Timeout
	// Garbage answers with bytes that are not a DNS message.
	Garbage
	// Refused answers with RCODE 5.
	Refused
	// WrongID answers with a message whose ID does not match the query.
	WrongID
	// Truncated answers over UDP with the TC bit and no records, so the
	// client must retry over TCP (where the real answer is given).
	Truncated
)

// Server is a test DNS server. Its methods are safe for concurrent use.
type Server struct {
	// Addr is host:port, the same for UDP and TCP.
	Addr string

	pc net.PacketConn
	ln net.Listener

	mu        sync.Mutex          // guards the following
	records   map[string][]dns.RR // lower-case FQDN → records
	failures  map[string]Failure  // lower-case FQDN → failure, for any type
	typeFail  map[string]Failure  // "fqdn/TYPE" → failure for that type only
	authentic bool                // set AD on every answer
	insecure  map[string]bool     // names answered without AD even when authentic
	closed    bool
	wg        sync.WaitGroup
}

// New starts a server and stops it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s, err := Start()
	if err != nil {
		t.Fatalf("dnstest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a server on 127.0.0.1 on a free port for UDP and TCP.
func Start() (*Server, error) {
	s := &Server{
		records:  make(map[string][]dns.RR),
		failures: make(map[string]Failure),
		typeFail: make(map[string]Failure),
		insecure: make(map[string]bool),
	}
	var err error
	for range 20 {
		s.pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		s.ln, err = net.Listen("tcp", s.pc.LocalAddr().String())
		if err == nil {
			break
		}
		s.pc.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("no port free for both udp and tcp: %w", err)
	}
	s.Addr = s.pc.LocalAddr().String()
	s.wg.Add(2)
	go s.serveUDP()
	go s.serveTCP()
	return s, nil
}

// Close stops the server and waits for its goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.pc.Close()
	s.ln.Close()
	s.wg.Wait()
}

// Add adds records given in zone-file syntax, one per string, such as
// "example.org. 300 IN MX 10 mx.example.org.". Relative names are taken as
// absolute. It panics on a syntax error: tests give constant data.
func (s *Server) Add(records ...string) {
	rrs := make([]dns.RR, 0, len(records))
	for _, text := range records {
		rr, err := dns.NewRR(text)
		if err != nil {
			panic(fmt.Sprintf("dnstest: bad record %q: %v", text, err))
		}
		if rr != nil {
			rrs = append(rrs, rr)
		}
	}
	s.AddRR(rrs...)
}

// AddRR adds already built records.
func (s *Server) AddRR(rrs ...dns.RR) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rr := range rrs {
		name := strings.ToLower(dns.Fqdn(rr.Header().Name))
		rr.Header().Name = name
		s.records[name] = append(s.records[name], rr)
	}
}

// Remove removes every record of name with type qtype (dns.TypeANY: all).
func (s *Server) Remove(name string, qtype uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name = strings.ToLower(dns.Fqdn(name))
	if qtype == dns.TypeANY {
		delete(s.records, name)
		return
	}
	kept := s.records[name][:0]
	for _, rr := range s.records[name] {
		if rr.Header().Rrtype != qtype {
			kept = append(kept, rr)
		}
	}
	s.records[name] = kept
}

// Reset removes every record and failure.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = make(map[string][]dns.RR)
	s.failures = make(map[string]Failure)
	s.typeFail = make(map[string]Failure)
	s.insecure = make(map[string]bool)
}

// Fail makes queries for name misbehave as f; f == 0 restores answers.
func (s *Server) Fail(name string, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name = strings.ToLower(dns.Fqdn(name))
	if f == 0 {
		delete(s.failures, name)
		return
	}
	s.failures[name] = f
}

// FailType makes queries for name and type qtype misbehave as f; f == 0
// restores answers.
func (s *Server) FailType(name string, qtype uint16, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(dns.Fqdn(name)) + "/" + dns.TypeToString[qtype]
	if f == 0 {
		delete(s.typeFail, key)
		return
	}
	s.typeFail[key] = f
}

// AddTXT adds a TXT record holding raw (any bytes), split into strings of
// at most 255 octets.
func (s *Server) AddTXT(name string, raw string) {
	s.AddRR(&dns.TXT{
		Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 300},
		Txt: dnsutil.EscapeTXT(raw),
	})
}

// SetAuthentic makes the server set the AD bit on its answers, as a
// DNSSEC-validating resolver does for secure data.
func (s *Server) SetAuthentic(on bool) {
	s.mu.Lock()
	s.authentic = on
	s.mu.Unlock()
}

// SetInsecure makes answers for name lack the AD bit even when the server
// is authentic (an unsigned zone under a validating resolver).
func (s *Server) SetInsecure(name string) {
	s.mu.Lock()
	s.insecure[strings.ToLower(dns.Fqdn(name))] = true
	s.mu.Unlock()
}

func (s *Server) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, addr, err := s.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		reply := s.handle(buf[:n], true)
		if reply != nil {
			s.pc.WriteTo(reply, addr)
		}
	}
}

func (s *Server) serveTCP() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.serveConn(c)
		}()
	}
}

func (s *Server) serveConn(c net.Conn) {
	for {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		reply := s.handle(msg, false)
		if reply == nil {
			// A timeout: hold the connection without answering until the
			// client gives up.
			io.Copy(io.Discard, c)
			return
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(reply)))
		if _, err := c.Write(append(out, reply...)); err != nil {
			return
		}
	}
}

// handle answers one query; nil means do not answer.
func (s *Server) handle(query []byte, udp bool) []byte {
	var q dns.Msg
	if err := q.Unpack(query); err != nil || len(q.Question) != 1 {
		return nil
	}
	qn := q.Question[0]
	name := strings.ToLower(qn.Name)

	s.mu.Lock()
	f := s.failures[name]
	if tf, ok := s.typeFail[name+"/"+dns.TypeToString[qn.Qtype]]; ok {
		f = tf
	}
	s.mu.Unlock()

	m := new(dns.Msg)
	m.SetReply(&q)
	m.RecursionAvailable = true
	switch f {
	case Timeout:
		return nil
	case Garbage:
		// A header with the right ID and a question count that promises
		// more than follows.
		b := make([]byte, 14)
		binary.BigEndian.PutUint16(b, q.Id)
		b[2], b[3] = 0x81, 0x80
		b[5] = 7
		copy(b[12:], "\xff\xff")
		return b
	case ServFail:
		m.Rcode = dns.RcodeServerFailure
	case Refused:
		m.Rcode = dns.RcodeRefused
	case Truncated:
		if udp {
			m.Truncated = true
			break
		}
		s.answer(m, qn)
	case WrongID:
		s.answer(m, qn)
		m.Id = q.Id + 1
	default:
		s.answer(m, qn)
	}
	out, err := m.Pack()
	if err != nil {
		return nil
	}
	if udp && len(out) > udpSize(&q) {
		m.Answer, m.Ns, m.Extra = nil, nil, nil
		m.Truncated = true
		out, _ = m.Pack()
	}
	return out
}

func udpSize(q *dns.Msg) int {
	if o := q.IsEdns0(); o != nil && o.UDPSize() > 512 {
		return int(o.UDPSize())
	}
	return 512
}

// answer fills m from the records, following CNAMEs (at most 8) within
// the data and matching wildcards.
func (s *Server) answer(m *dns.Msg, q dns.Question) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := strings.ToLower(q.Name)
	authentic := s.authentic
	seen := map[string]bool{}
	for range 8 {
		if s.insecure[name] {
			authentic = false
		}
		rrs, exists := s.lookup(name)
		if !exists {
			if len(m.Answer) == 0 {
				m.Rcode = dns.RcodeNameError
			}
			break
		}
		var cname *dns.CNAME
		found := false
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype || q.Qtype == dns.TypeANY {
				c := dns.Copy(rr)
				c.Header().Name = name
				m.Answer = append(m.Answer, c)
				found = true
			} else if cn, ok := rr.(*dns.CNAME); ok {
				cname = cn
			}
		}
		if found || cname == nil {
			break
		}
		c := dns.Copy(cname).(*dns.CNAME)
		c.Hdr.Name = name
		m.Answer = append(m.Answer, c)
		name = strings.ToLower(cname.Target)
		if seen[name] {
			break
		}
		seen[name] = true
	}
	m.AuthenticatedData = authentic
}

// lookup returns the records of name, or of the closest wildcard, and
// whether the name exists (has records, or has names below it).
func (s *Server) lookup(name string) ([]dns.RR, bool) {
	if rrs, ok := s.records[name]; ok && len(rrs) > 0 {
		return rrs, true
	}
	for n := range s.records {
		if strings.HasSuffix(n, "."+name) && len(s.records[n]) > 0 {
			return nil, true // an empty non-terminal
		}
	}
	labels := dns.SplitDomainName(name)
	for i := 1; i < len(labels); i++ {
		w := "*." + strings.Join(labels[i:], ".") + "."
		if rrs, ok := s.records[w]; ok && len(rrs) > 0 {
			return rrs, true
		}
	}
	return nil, false
}
