package jmap

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestEventSource(t *testing.T) {
	e := newEnv(t)
	resp := e.open(e.alice, "GET", "/jmap/eventsource?types=Email,Mailbox&closeafter=no&ping=0", nil, "")
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- d
			}
		}
		close(events)
	}()
	// A change to bob's account is not announced to alice.
	e.deliver(e.bob, "INBOX", simpleMsg)
	// Alice's label (not subscribed to) is not announced either.
	e.call1(e.alice, "Label/set", map[string]any{"create": map[string]any{"l": map[string]any{"name": "x"}}})
	e.deliver(e.alice, "INBOX", simpleMsg)
	select {
	case ev := <-events:
		var sc struct {
			Type    string                       `json:"@type"`
			Changed map[string]map[string]string `json:"changed"`
		}
		if err := json.Unmarshal([]byte(ev), &sc); err != nil {
			t.Fatal(err)
		}
		ch := sc.Changed[accountIDString(e.alice.ID)]
		if sc.Type != "StateChange" || ch["Email"] == "" || ch["Mailbox"] == "" || ch["Label"] != "" || len(sc.Changed) != 1 {
			t.Errorf("event: %s", ev)
		}
		st := e.call1(e.alice, "Email/get", map[string]any{"ids": []string{}})["state"]
		if ch["Email"] != st {
			t.Errorf("pushed state %s, Email/get state %s", ch["Email"], st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
}

func TestEventSourceCloseAfterAndPing(t *testing.T) {
	e := newEnv(t)
	resp := e.open(e.alice, "GET", "/jmap/eventsource?types=*&closeafter=state&ping=1", nil, "")
	defer resp.Body.Close()
	done := make(chan []string)
	go func() {
		var lines []string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		done <- lines
	}()
	e.call1(e.alice, "Mailbox/set", map[string]any{"create": map[string]any{"m": map[string]any{"name": "X"}}})
	select {
	case lines := <-done:
		if !strings.Contains(strings.Join(lines, "\n"), "event: state") {
			t.Errorf("stream: %v", lines)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("closeafter=state did not close")
	}
	if _, st := e.get(e.alice, "/jmap/eventsource?closeafter=maybe"); st != 400 {
		t.Errorf("bad closeafter: %d", st)
	}
}
