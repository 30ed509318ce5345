package memblob

import (
	"testing"

	"freehold/internal/blob"
	"freehold/internal/blob/blobtest"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return New() })
}
