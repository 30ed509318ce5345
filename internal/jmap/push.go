package jmap

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"freehold/internal/store"
)

// pushTypes are the type names a StateChange can report (RFC 8620 §7.1).
var pushTypes = []string{"Mailbox", "Email", "EmailDelivery", "Thread", "Identity",
	"EmailSubmission", "VacationResponse", "Label", "Settings"}

// typesOfChange maps a change log entry to the JMAP types whose state it
// changes.
func typesOfChange(ch store.Change) []string {
	switch ch.Kind {
	case store.ChangeMailbox, store.ChangeEntry:
		return []string{"Mailbox"}
	case store.ChangeEmail:
		if ch.Op == store.OpCreated {
			return []string{"Email", "EmailDelivery"}
		}
		return []string{"Email"}
	case store.ChangeThread:
		return []string{"Thread"}
	case store.ChangeIdentity:
		return []string{"Identity"}
	case store.ChangeSubmission:
		return []string{"EmailSubmission"}
	case store.ChangeLabel:
		return []string{"Label"}
	case store.ChangeVacation:
		return []string{"VacationResponse"}
	case store.ChangeSettings:
		return []string{"Settings"}
	}
	return nil
}

// maxPushPages bounds the log pages read to find which types changed;
// beyond it every type is reported.
const maxPushPages = 20

// changedTypes returns the types with changes in (from, to].
func (s *Server) changedTypes(ctx context.Context, acct store.AccountID, from, to store.ModSeq) map[string]bool {
	out := map[string]bool{}
	cur := from
	for page := 0; cur < to; page++ {
		batch, err := s.st.Changes(ctx, acct, cur, 1000)
		if err != nil || page >= maxPushPages {
			for _, t := range pushTypes {
				out[t] = true
			}
			return out
		}
		if len(batch) == 0 {
			break
		}
		for _, ch := range batch {
			if ch.ModSeq > to {
				return out
			}
			for _, t := range typesOfChange(ch) {
				out[t] = true
			}
			cur = ch.ModSeq
		}
	}
	return out
}

// minPing is the shortest ping interval honoured (RFC 8620 §7.3 lets the
// server raise it).
const minPing = 5

// serveEventSource handles GET /jmap/eventsource (RFC 8620 §7.3): a
// text/event-stream of StateChange objects, fed by the store's change
// notifications (which, in scaled mode, include other nodes' changes).
func (s *Server) serveEventSource(w http.ResponseWriter, r *http.Request, acct store.Account) {
	q := r.URL.Query()
	want := map[string]bool{}
	types := q.Get("types")
	if types == "" || types == "*" {
		for _, t := range pushTypes {
			want[t] = true
		}
	} else {
		for _, t := range strings.Split(types, ",") {
			want[strings.TrimSpace(t)] = true
		}
	}
	closeAfter := q.Get("closeafter")
	if closeAfter != "" && closeAfter != "state" && closeAfter != "no" {
		WriteProblem(w, http.StatusBadRequest, "closeafter must be state or no")
		return
	}
	ping := 0
	if p := q.Get("ping"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			WriteProblem(w, http.StatusBadRequest, "ping must be a non-negative integer")
			return
		}
		if n > 0 {
			ping = max(n, minPing)
		}
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		WriteProblem(w, http.StatusInternalServerError, "")
		return
	}
	ctx := r.Context()
	ch := s.st.Listen(ctx, acct.ID)
	last, err := s.st.HighestModSeq(ctx, acct.ID)
	if err != nil {
		WriteProblem(w, http.StatusInternalServerError, "")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	var tick <-chan time.Time
	if ping > 0 {
		t := time.NewTicker(time.Duration(ping) * time.Second)
		defer t.Stop()
		tick = t.C
	}
	id := accountIDString(acct.ID)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			if _, err := fmt.Fprintf(w, "event: ping\ndata: {\"interval\":%d}\n\n", ping); err != nil {
				return
			}
			flusher.Flush()
		case m, ok := <-ch:
			if !ok {
				return
			}
			if m <= last {
				continue
			}
			changed := map[string]string{}
			for t := range s.changedTypes(ctx, acct.ID, last, m) {
				if want[t] {
					changed[t] = stateString(m)
				}
			}
			last = m
			if len(changed) == 0 {
				continue
			}
			b, _ := json.Marshal(map[string]any{"@type": "StateChange", "changed": map[string]any{id: changed}})
			if _, err := fmt.Fprintf(w, "event: state\ndata: %s\n\n", b); err != nil {
				return
			}
			flusher.Flush()
			if closeAfter == "state" {
				return
			}
		}
	}
}
