package e2e

import (
	"testing"

	"freehold/internal/testutil/pgtest"
)

// TestMain stops the throwaway PostgreSQL server, if a test started one.
func TestMain(m *testing.M) { pgtest.Main(m) }
