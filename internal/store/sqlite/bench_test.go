package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"freehold/internal/blob"
	"freehold/internal/store"
	"freehold/internal/store/sqlite"
)

// BenchmarkDeliver delivers from many goroutines at once, as concurrent
// SMTP sessions do; group commit makes them share fsyncs. Every Deliver is
// durable (synchronous=FULL) when it returns.
func BenchmarkDeliver(b *testing.B) {
	for _, par := range []int{1, 16} {
		b.Run(fmt.Sprintf("writers=%d", 2*par), func(b *testing.B) {
			benchDeliver(b, par)
		})
	}
}

func benchDeliver(b *testing.B, par int) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.AddDomain(ctx, "example.org"); err != nil {
		b.Fatal(err)
	}
	var accts []store.AccountID
	for i := range 20 {
		a, err := s.CreateAccount(ctx, store.NewAccount{Address: fmt.Sprintf("user%d@example.org", i)})
		if err != nil {
			b.Fatal(err)
		}
		accts = append(accts, a.ID)
	}
	var n atomic.Int64
	b.SetParallelism(par)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := fmt.Sprintf("Message-ID: <%d@example.net>\r\n\r\nbody", i)
			m := store.NewMessage{
				BlobID: blob.Sum([]byte(body)), Size: 5000, ReceivedAt: time.Now(),
				Envelope: store.Envelope{Subject: "benchmark", MessageID: fmt.Sprintf("%d@example.net", i),
					From: []store.EnvelopeAddress{{Name: "Sender", Address: "s@example.net"}}},
				Preview: "a preview of the message body",
			}
			if _, err := s.Deliver(ctx, store.Delivery{Message: m, Targets: []store.DeliveryTarget{{Account: accts[i%int64(len(accts))]}}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}
