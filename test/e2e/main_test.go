package e2e

import (
	"fmt"
	"os"
	"testing"

	"freehold/internal/testutil/pgtest"
)

// binDir holds the freehold binary that buildBinary builds once for every
// test of the package; TestMain removes it.
var binDir string

// TestMain makes binDir, runs the tests, then stops the throwaway
// PostgreSQL server, if a test started one, and removes binDir.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "freehold-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := pgtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}
