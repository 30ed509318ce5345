package imapserver

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// goClient connects go-imap v2's client over STARTTLS and logs in.
func (e *testEnv) goClient(h *imapclient.UnilateralDataHandler) *imapclient.Client {
	e.t.Helper()
	c, err := imapclient.DialStartTLS(e.addr, &imapclient.Options{TLSConfig: e.tls, UnilateralDataHandler: h})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	if err := c.Login("alice@example.org", testPassword).Wait(); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func appendGo(t *testing.T, c *imapclient.Client, mailbox, raw string, flags ...imap.Flag) *imap.AppendData {
	t.Helper()
	cmd := c.Append(mailbox, int64(len(raw)), &imap.AppendOptions{Flags: flags, Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)})
	if _, err := cmd.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestGoIMAPClient(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	if err := e.st.SetQuota(context.Background(), a.ID, 10<<20); err != nil {
		t.Fatal(err)
	}
	c := e.goClient(nil)
	if !c.Caps().Has(imap.CapIMAP4rev2) || !c.Caps().Has(imap.CapQResync) {
		t.Fatalf("caps: %v", c.Caps())
	}
	if _, err := c.Enable(imap.CapIMAP4rev2).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ID(&imap.IDData{Name: "go-imap"}).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Create("Work", &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{imap.MailboxAttrFlagged}}).Wait(); err != nil {
		t.Fatal(err)
	}
	boxes, err := c.List("", "*", &imap.ListOptions{ReturnStatus: &imap.StatusOptions{NumMessages: true}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(boxes) != 7 || boxes[0].Status == nil {
		t.Fatalf("LIST: %d mailboxes, first %+v", len(boxes), boxes[0])
	}
	ad := appendGo(t, c, "INBOX", testMessage(1, "Hello go-imap"), imap.FlagSeen)
	appendGo(t, c, "INBOX", testMessage(2, "Second"))
	if ad.UID != 1 || ad.UIDValidity == 0 {
		t.Fatalf("APPENDUID: %+v", ad)
	}

	sel, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages != 2 || sel.HighestModSeq == 0 || sel.UIDNext != 3 {
		t.Fatalf("SELECT: %+v", sel)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{
		UID: true, Flags: true, Envelope: true, ModSeq: true, RFC822Size: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		BodySection:   []*imap.FetchItemBodySection{{Specifier: imap.PartSpecifierHeader, Peek: true}},
	}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Envelope.Subject != "Hello go-imap" || msgs[0].ModSeq == 0 ||
		len(msgs[0].BodySection) != 1 || !strings.Contains(string(msgs[0].BodySection[0].Bytes), "Subject: Hello go-imap") {
		t.Fatalf("FETCH: %+v", msgs[0])
	}
	if bs, ok := msgs[1].BodyStructure.(*imap.BodyStructureSinglePart); !ok || bs.Type != "TEXT" {
		t.Fatalf("BODYSTRUCTURE: %#v", msgs[1].BodyStructure)
	}

	// CONDSTORE: a STORE conditional on an old MODSEQ fails after a
	// change made by another client.
	old := msgs[1].ModSeq
	other := e.goClient(nil)
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := other.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	err = c.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagAnswered}},
		&imap.StoreOptions{UnchangedSince: old}).Close()
	if err == nil || !strings.Contains(err.Error(), "MODIFIED") {
		// go-imap reports the MODIFIED code of the tagged OK as no
		// error; check the flags instead.
		got, ferr := c.Fetch(imap.SeqSetNum(2), &imap.FetchOptions{Flags: true}).Collect()
		if ferr != nil {
			t.Fatal(ferr)
		}
		for _, f := range got[0].Flags {
			if f == imap.FlagAnswered {
				t.Fatal("conditional STORE applied despite a newer MODSEQ")
			}
		}
	}
	changed, err := c.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true, Flags: true, ChangedSince: old}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || changed[0].UID != 2 {
		t.Fatalf("CHANGEDSINCE: %+v", changed)
	}
	sd, err := c.Search(&imap.SearchCriteria{ModSeq: &imap.SearchCriteriaModSeq{ModSeq: old + 1}}, &imap.SearchOptions{ReturnAll: true, ReturnCount: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Count != 1 || sd.ModSeq == 0 {
		t.Fatalf("SEARCH MODSEQ: %+v", sd)
	}
	sd, err = c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "second"}}}, nil).Wait()
	if err != nil || len(sd.AllUIDs()) != 1 || sd.AllUIDs()[0] != 2 {
		t.Fatalf("UID SEARCH: %+v %v", sd, err)
	}
	sorted, err := c.Sort(&imapclient.SortOptions{SearchCriteria: &imap.SearchCriteria{}, SortCriteria: []imapclient.SortCriterion{{Key: imapclient.SortKeySubject}}}).Wait()
	if err != nil || len(sorted) != 2 || sorted[0] != 1 {
		t.Fatalf("SORT: %v %v", sorted, err)
	}
	if _, err := c.Thread(&imapclient.ThreadOptions{Algorithm: imap.ThreadReferences, SearchCriteria: &imap.SearchCriteria{}}).Wait(); err != nil {
		t.Fatal(err)
	}

	cd, err := c.Copy(imap.SeqSetNum(1), "Work").Wait()
	if err != nil || cd.UIDValidity == 0 {
		t.Fatalf("COPY: %+v %v", cd, err)
	}
	if _, err := c.Move(imap.SeqSetNum(2), "Archive").Wait(); err != nil {
		t.Fatal(err)
	}
	st, err := c.Status("Archive", &imap.StatusOptions{NumMessages: true, Size: true, HighestModSeq: true}).Wait()
	if err != nil || *st.NumMessages != 1 || *st.Size == 0 {
		t.Fatalf("STATUS: %+v %v", st, err)
	}
	roots, err := c.GetQuotaRoot("INBOX").Wait()
	if err != nil || len(roots) != 1 || roots[0].Resources[imap.QuotaResourceStorage].Limit != 10<<10 {
		t.Fatalf("GETQUOTAROOT: %+v %v", roots, err)
	}
	ns, err := c.Namespace().Wait()
	if err != nil || len(ns.Personal) != 1 {
		t.Fatalf("NAMESPACE: %+v %v", ns, err)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatal(err)
	}
}

// go-imap's IDLE hears of new mail delivered while it idles.
func TestGoIMAPIdle(t *testing.T) {
	e := newTestEnv(t)
	a := e.addUser("alice@example.org")
	var mu sync.Mutex
	exists := make(chan uint32, 4)
	c := e.goClient(&imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			mu.Lock()
			defer mu.Unlock()
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
	})
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let IDLE reach the server
	e.deliver(a, testMessage(1, "while idle"))
	select {
	case n := <-exists:
		if n != 1 {
			t.Fatalf("EXISTS %d", n)
		}
	case <-time.After(time.Second):
		t.Fatal("no EXISTS within a second")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
}
