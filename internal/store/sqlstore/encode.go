package sqlstore

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"freehold/internal/store"
)

// Times are stored as Unix nanoseconds in UTC; 0 stands for the zero
// time. Times that nanoseconds cannot represent (before 1678 or after
// 2262, which only a forged Date header produces) are stored as 0.
var (
	minTime = time.Unix(0, -1<<63+1)
	maxTime = time.Unix(0, 1<<63-1)
)

func nanos(t time.Time) int64 {
	if t.IsZero() || t.Before(minTime) || t.After(maxTime) {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// jsonText encodes v for a TEXT column.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only plain strings and structs of strings are stored.
		panic(fmt.Sprintf("sqlstore: encoding %T: %v", v, err))
	}
	return string(b)
}

func decodeStrings(s string) ([]string, error) {
	if s == "" || s == "[]" || s == "null" {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("sqlstore: bad string list %q: %w", s, err)
	}
	return out, nil
}

func decodeAddrs(s string) ([]store.EnvelopeAddress, error) {
	if s == "" || s == "[]" || s == "null" {
		return nil, nil
	}
	var out []store.EnvelopeAddress
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("sqlstore: bad address list: %w", err)
	}
	return out, nil
}

func hasKeyword(kw []string, k string) bool {
	for _, x := range kw {
		if x == k {
			return true
		}
	}
	return false
}

// placeholders returns "?, ?, ..." for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// inChunk is the largest IN list one query binds.
const inChunk = 256

// padded returns vals as query arguments, padded by repeating the last
// value to a power of two, so that IN lists come in few shapes and their
// prepared statements can be cached.
func padded[T any](vals []T) []any {
	n := 1
	for n < len(vals) {
		n *= 2
	}
	out := make([]any, n)
	for i := range out {
		out[i] = vals[min(i, len(vals)-1)]
	}
	return out
}

// chunks calls fn on successive slices of at most inChunk values.
func chunks[T any](vals []T, fn func([]T) error) error {
	return chunksOf(vals, inChunk, fn)
}

// chunksOf calls fn on successive slices of at most size values.
func chunksOf[T any](vals []T, size int, fn func([]T) error) error {
	for len(vals) > 0 {
		n := min(len(vals), size)
		if err := fn(vals[:n]); err != nil {
			return err
		}
		vals = vals[n:]
	}
	return nil
}
