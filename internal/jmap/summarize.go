package jmap

import (
	"freehold/internal/message"
	"freehold/internal/store"
)

// summarize reads what the store keeps beside a message, with the same
// code SMTP delivery and IMAP APPEND use.
func summarize(raw []byte) (store.Envelope, string, bool) {
	return message.Summarize(raw)
}
