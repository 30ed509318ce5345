package smtpserver

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"freehold/internal/queue"
)

// FUTURERELEASE (RFC 4865): a submission client asks with HOLDFOR or
// HOLDUNTIL on MAIL that the message be held until a time. The whole
// message is held, local recipients included (delivery.Deliverer queues
// it and the queue delivers at release).

// Errors of the hold parameters. errHoldSyntax and errHoldBoth are
// answered 501, errHoldTooFar 554, both with 5.5.4 (RFC 4865 §3).
var (
	errHoldSyntax = errors.New("malformed FUTURERELEASE parameter")
	errHoldBoth   = errors.New("both HOLDFOR and HOLDUNTIL given")
	errHoldTooFar = errors.New("release beyond the maximum hold")
)

// futureRelease reports whether the extension is offered: on submission
// only (RFC 4865 §1: it is a submission service extension), unless
// turned off.
func (c *conn) futureRelease() bool {
	o := &c.srv.opts
	return o.Mode == ModeSubmission && o.MaxHold > 0
}

// futureReleaseKeyword is the EHLO line (RFC 4865 §3): the longest hold
// in seconds and the latest release time, in UTC.
func futureReleaseKeyword(now time.Time, max time.Duration) string {
	return "FUTURERELEASE " + strconv.FormatInt(int64(max/time.Second), 10) + " " +
		now.Add(max).UTC().Format(time.RFC3339)
}

// parseHoldFor parses a HOLDFOR value: future-release-integer = 1*9DIGIT
// seconds (RFC 4865 §3).
func parseHoldFor(v string) (time.Duration, error) {
	if len(v) == 0 || len(v) > 9 {
		return 0, fmt.Errorf("%w: HOLDFOR=%q", errHoldSyntax, v)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, fmt.Errorf("%w: HOLDFOR=%q", errHoldSyntax, v)
		}
	}
	n, _ := strconv.ParseInt(v, 10, 64) // at most 9 digits: cannot fail
	return time.Duration(n) * time.Second, nil
}

// parseHoldUntil parses a HOLDUNTIL value: an RFC 3339 §5.6 date-time
// (RFC 4865 erratum 2040), such as 2026-03-02T09:30:00Z or
// 2026-03-02T10:30:00.5+01:00. RFC 3339 allows "t" and "z" in lower
// case; they are accepted.
func parseHoldUntil(v string) (time.Time, error) {
	if len(v) < len("2006-01-02T15:04:05Z") || len(v) > 64 {
		return time.Time{}, fmt.Errorf("%w: HOLDUNTIL=%q", errHoldSyntax, v)
	}
	t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(v))
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: HOLDUNTIL=%q", errHoldSyntax, v)
	}
	return t, nil
}

// holdTime turns a HOLDFOR or HOLDUNTIL parameter into the release time
// of the transaction. A release time not in the future means no hold
// (queue.HoldUntil: RFC 4865 allows releasing at once). requested says
// that this MAIL command already gave HOLDFOR or HOLDUNTIL.
func holdTime(now time.Time, max time.Duration, p param, requested bool) (time.Time, error) {
	if requested {
		return time.Time{}, errHoldBoth
	}
	if !p.set {
		return time.Time{}, fmt.Errorf("%w: %s without a value", errHoldSyntax, p.key)
	}
	var (
		holdFor   time.Duration
		holdUntil time.Time
		err       error
	)
	if p.key == "HOLDFOR" {
		holdFor, err = parseHoldFor(p.value)
		if err == nil && holdFor > max {
			err = fmt.Errorf("%w: HOLDFOR=%s", errHoldTooFar, p.value)
		}
	} else {
		holdUntil, err = parseHoldUntil(p.value)
		if err == nil && holdUntil.Sub(now) > max {
			err = fmt.Errorf("%w: HOLDUNTIL=%s", errHoldTooFar, p.value)
		}
	}
	if err != nil {
		return time.Time{}, err
	}
	t, err := queue.HoldUntil(now, holdFor, holdUntil)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %v", errHoldTooFar, err)
	}
	return t, nil
}

// holdReply maps a hold parameter error to its reply.
func holdReply(err error) reply {
	if errors.Is(err, errHoldTooFar) {
		return reply{code: 554, status: "5.5.4", text: "Requested release time is beyond the maximum hold"}.withDetail("FUTURERELEASE", err)
	}
	return reply{code: 501, status: "5.5.4", text: "Invalid HOLDFOR or HOLDUNTIL parameter"}.withDetail("FUTURERELEASE", err)
}
