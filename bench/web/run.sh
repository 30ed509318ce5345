#!/usr/bin/env bash
# Webmail benchmark: one command, from the repository root,
#
#     bench/web/run.sh
#
# builds the binary with the web app embedded, initialises a data
# directory with one account, stores 100,000 messages in its INBOX
# straight through the store API (bench/web fill; the server is stopped
# meanwhile), starts `freehold serve` on free loopback ports and reports:
#
#   query threads/flat   server time of the webmail's first list request
#                        (Email/query + Email/get + Thread/get, 50 rows,
#                        with the total) over HTTP on loopback: the first
#                        one after start, then the median of 20;
#   login to rows        in Chromium (Playwright), from submitting the
#                        login form to the first rows on screen;
#   lighthouse           Lighthouse 12 (web/package.json pins it) on the
#                        inbox page, default mobile settings: performance
#                        and accessibility scores, and the metrics;
#   initial JS           what the first visit loads, gzipped (npm run size).
#
# Settings (environment):
#   BENCH_MESSAGES=100000  messages in the INBOX
#   BENCH_DIR=path         keep the data directory there; when it already
#                          holds a filled one, it is reused (no init, no fill)
#   BENCH_OUT=path         where the Lighthouse report and screenshots go
#                          (default bench/web/out, ignored by git)
#   FREEHOLD_BIN=path      benchmark that binary instead of building one
#   CHROME_PATH            Chromium (default /usr/bin/chromium)
#
# Needs Go, Node >= 20.19 and Debian's chromium. Takes about 2 minutes on
# 2 cores: the build, 40 s of fill, then the measures.
set -euo pipefail
cd "$(dirname "$0")/../.."

n=${BENCH_MESSAGES:-100000}
out=${BENCH_OUT:-bench/web/out}
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}

tools=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; fi
	rm -rf "$tools"
	if [ -z "${BENCH_DIR:-}" ]; then rm -rf "${data:-}"; fi
}
trap cleanup EXIT

scripts/build-web.sh >/dev/null
bin=${FREEHOLD_BIN:-}
if [ -z "$bin" ]; then
	go build -o "$tools/freehold" ./cmd/freehold
	bin=$tools/freehold
fi
go build -o "$tools/web" ./bench/web

data=${BENCH_DIR:-$(mktemp -d)}
if [ ! -f "$data/bench.env" ]; then
	rm -rf "$data"
	"$bin" init --data "$data" --hostname mx.example.test --domain example.test --demo >"$tools/init.out"
	user=$(sed -n 's/^demo account: \([^ ]*\) .*/\1/p' "$tools/init.out")
	password=$(sed -n 's/.*password: \(.*\)$/\1/p' "$tools/init.out")
	"$tools/web" fill -config "$data/freehold.toml" -account "$user" -n "$n"
	printf 'user=%q\npassword=%q\n' "$user" "$password" >"$data/bench.env"
fi
# shellcheck disable=SC1091
. "$data/bench.env"

# Free loopback ports for every listener.
python3 - "$data/freehold.toml" <<'PY'
import re, sys, socket
path = sys.argv[1]
text = open(path).read()
def free():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return "127.0.0.1:%d" % p
for name in ["smtp", "submission", "submissions", "imap", "imaps", "http", "https"]:
    text = re.sub(r'(?m)^(\s*%s\s*=\s*)"[^"]*"' % name, lambda m: m.group(1) + '"%s"' % free(), text)
open(path, "w").write(text)
PY
http=$(sed -n 's/^\s*http = "\(.*\)"/\1/p' "$data/freehold.toml")

"$bin" serve --config "$data/freehold.toml" >"$tools/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
	curl -fsS "http://$http/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done

export FREEHOLD_URL="http://$http" FREEHOLD_USER="$user" FREEHOLD_PASSWORD="$password" BENCH_OUT="$out"
status=0
{
	"$tools/web" query -url "$FREEHOLD_URL" -user "$user" -password "$password"
	node bench/web/browser.mjs
	(cd web && node scripts/size.mjs) | grep '^initial JS'
} || status=$?
if [ "$status" != 0 ]; then
	echo "== server log"
	tail -n 50 "$tools/serve.log"
fi
exit "$status"
