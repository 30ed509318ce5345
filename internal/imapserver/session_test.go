package imapserver

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// modelClient is an IMAP client that keeps its own model of the selected
// mailbox (sequence number -> UID, 0 where not yet known) from the
// untagged responses alone, as a real client must, and checks that every
// FETCH agrees with it. It returns errors instead of failing the test so
// that it can run on its own goroutine.
type modelClient struct {
	name  string
	nc    net.Conn
	r     *bufio.Reader
	tagN  int
	model []uint32
}

func dialModel(e *testEnv, name string) (*modelClient, error) {
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		return nil, err
	}
	m := &modelClient{name: name, nc: nc, r: bufio.NewReader(nc)}
	if _, err := m.r.ReadString('\n'); err != nil {
		return nil, err
	}
	if _, err := m.cmd(fmt.Sprintf("LOGIN alice@example.org %q", testPassword)); err != nil {
		return nil, err
	}
	_, err = m.cmd("SELECT INBOX")
	return m, err
}

// cmd runs a command, applies its untagged responses to the model and
// fails on anything but OK.
func (m *modelClient) cmd(c string) ([]string, error) {
	m.tagN++
	tag := "m" + strconv.Itoa(m.tagN)
	m.nc.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := fmt.Fprintf(m.nc, "%s %s\r\n", tag, c); err != nil {
		return nil, err
	}
	var lines []string
	for {
		l, err := m.r.ReadString('\n')
		if err != nil {
			return lines, err
		}
		l = strings.TrimSuffix(l, "\r\n")
		if strings.HasPrefix(l, tag+" ") {
			// Acting on a message another session expunged is
			// refused, legitimately.
			if !strings.HasPrefix(l, tag+" OK") && !strings.Contains(l, "[EXPUNGEISSUED]") {
				return lines, fmt.Errorf("%s: %q: %s", m.name, c, l)
			}
			return lines, nil
		}
		if err := m.apply(l); err != nil {
			return lines, fmt.Errorf("%s: %q: %v", m.name, c, err)
		}
		lines = append(lines, l)
	}
}

func (m *modelClient) apply(l string) error {
	f := strings.Fields(l)
	if len(f) < 3 || f[0] != "*" {
		return nil
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return nil
	}
	switch f[2] {
	case "EXISTS":
		if n < len(m.model) {
			return fmt.Errorf("EXISTS %d shrinks %d messages", n, len(m.model))
		}
		for len(m.model) < n {
			m.model = append(m.model, 0)
		}
	case "EXPUNGE":
		if n < 1 || n > len(m.model) {
			return fmt.Errorf("EXPUNGE %d of %d", n, len(m.model))
		}
		m.model = append(m.model[:n-1], m.model[n:]...)
	case "FETCH":
		if n < 1 || n > len(m.model) {
			return fmt.Errorf("FETCH %d of %d", n, len(m.model))
		}
		i := strings.Index(l, "UID ")
		if i < 0 {
			return nil
		}
		uf := strings.FieldsFunc(l[i+4:], func(r rune) bool { return r == ' ' || r == ')' })
		u, err := strconv.ParseUint(uf[0], 10, 32)
		if err != nil {
			return err
		}
		switch got := m.model[n-1]; {
		case got == 0:
			m.model[n-1] = uint32(u)
		case got != uint32(u):
			return fmt.Errorf("message %d is UID %d, model says %d", n, u, got)
		}
	}
	return nil
}

// Several sessions append, flag, expunge, move and fetch the same mailbox
// at once. Every session's sequence numbers must stay consistent with what
// it was told, and at the end every view must equal the store.
func TestConcurrentSessions(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	for i := 0; i < 30; i++ {
		e.appendMsg(a, "INBOX", testMessage(i, "seed"))
	}
	const sessions, rounds = 4, 40
	clients := make([]*modelClient, sessions)
	for i := range clients {
		c, err := dialModel(e, fmt.Sprint("s", i))
		if err != nil {
			t.Fatal(err)
		}
		defer c.nc.Close()
		clients[i] = c
	}
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(i)))
			for r := 0; r < rounds; r++ {
				if err := c.randomOp(rng, i, r); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	mb, _ := e.st.MailboxByName(context.Background(), a.ID, "INBOX")
	truth, err := e.st.Entries(context.Background(), a.ID, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		if _, err := c.cmd("NOOP"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.cmd("FETCH 1:* UID"); err != nil && len(truth) > 0 {
			t.Fatal(err)
		}
		if len(c.model) != len(truth) {
			t.Fatalf("%s sees %d messages, store has %d", c.name, len(c.model), len(truth))
		}
		for i, e := range truth {
			if c.model[i] != uint32(e.UID) {
				t.Fatalf("%s: message %d is UID %d, store says %d", c.name, i+1, c.model[i], e.UID)
			}
		}
	}
}

func (m *modelClient) randomOp(rng *rand.Rand, session, round int) error {
	n := len(m.model)
	pick := func() int { return 1 + rng.Intn(n) }
	var err error
	switch op := rng.Intn(8); {
	case op == 0:
		msg := testMessage(1000*session+round, "added")
		_, err = m.cmd(fmt.Sprintf("APPEND INBOX {%d+}\r\n%s", len(msg), msg))
	case op == 1 && n > 0:
		_, err = m.cmd(fmt.Sprintf(`STORE %d +FLAGS (\Deleted)`, pick()))
		if err == nil {
			_, err = m.cmd("EXPUNGE")
		}
	case op == 2 && n > 0:
		_, err = m.cmd(fmt.Sprintf("MOVE %d Archive", pick()))
	case op == 3 && n > 0:
		_, err = m.cmd(fmt.Sprintf(`STORE %d:%d FLAGS (\Seen k%d)`, pick(), n, round))
	case op == 4 && n > 0:
		_, err = m.cmd(fmt.Sprintf("FETCH 1:%d (UID FLAGS)", n))
	case op == 5 && n > 0:
		_, err = m.cmd("SEARCH ALL")
	case op == 6 && rng.Intn(2) == 0:
		err = m.idle(time.Duration(5+rng.Intn(20)) * time.Millisecond)
	default:
		_, err = m.cmd("NOOP")
	}
	return err
}

// idle idles for d, applying what the server pushes meanwhile.
func (m *modelClient) idle(d time.Duration) error {
	m.tagN++
	tag := "m" + strconv.Itoa(m.tagN)
	m.nc.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := fmt.Fprintf(m.nc, "%s IDLE\r\n", tag); err != nil {
		return err
	}
	l, err := m.r.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(l, "+") {
		return fmt.Errorf("%s: IDLE: %q", m.name, l)
	}
	time.Sleep(d)
	if _, err := fmt.Fprintf(m.nc, "DONE\r\n"); err != nil {
		return err
	}
	for {
		l, err := m.r.ReadString('\n')
		if err != nil {
			return err
		}
		l = strings.TrimSuffix(l, "\r\n")
		if strings.HasPrefix(l, tag+" ") {
			if !strings.HasPrefix(l, tag+" OK") {
				return fmt.Errorf("%s: IDLE: %s", m.name, l)
			}
			return nil
		}
		if err := m.apply(l); err != nil {
			return fmt.Errorf("%s: during IDLE: %v", m.name, err)
		}
	}
}
