#!/usr/bin/env bash
# Runs the webmail's end-to-end tests (web/e2e, Playwright driving Debian's
# Chromium) against the real binary: builds it with the web app embedded,
# initialises a throwaway data directory on free loopback ports with two
# accounts, starts `freehold serve`, runs the specs on desktop and phone
# viewports, and stops the server. Screenshots land in web/test-results.
#
# FREEHOLD_BIN=path runs the specs against that binary instead of building
# bin/freehold (it must embed a built web app). Extra arguments go to
# `playwright test` (a spec file, --project=phone, -g 'pattern', ...).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${FREEHOLD_BIN:-}
if [ -z "$bin" ]; then
	scripts/build-web.sh >/dev/null
	go build -o bin/freehold ./cmd/freehold
	bin=bin/freehold
fi

work=$(mktemp -d)
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
"$bin" init --data "$work" --hostname mx.example.test --domain example.test --demo >"$work/init.out"
user=$(sed -n 's/^demo account: \([^ ]*\) .*/\1/p' "$work/init.out")
password=$(sed -n 's/.*password: \(.*\)$/\1/p' "$work/init.out")
user2=second@example.test
password2=second-password-$RANDOM
echo "$password2" | "$bin" account add "$user2" --config "$work/freehold.toml" >/dev/null

smtp=127.0.0.1:$(port)
http=127.0.0.1:$(port)
python3 - "$work/freehold.toml" "$smtp" "$http" <<'PY'
import re, sys, socket
path, smtp, http = sys.argv[1:]
text = open(path).read()
def free():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return "127.0.0.1:%d" % p
addrs = {"smtp": smtp, "http": http}
for name in ["submission", "submissions", "imap", "imaps", "https"]:
    addrs[name] = free()
for name, addr in addrs.items():
    text = re.sub(r'(?m)^(\s*%s\s*=\s*)"[^"]*"' % name, r'\g<1>"%s"' % addr, text)
open(path, "w").write(text)
PY

"$bin" serve --config "$work/freehold.toml" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
	curl -fsS "http://$http/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done

export FREEHOLD_URL="http://$http" FREEHOLD_SMTP="$smtp"
export FREEHOLD_USER="$user" FREEHOLD_PASSWORD="$password"
export FREEHOLD_USER2="$user2" FREEHOLD_PASSWORD2="$password2"
status=0
(cd web && npx playwright test "$@") || status=$?
if [ "$status" != 0 ]; then
	echo "== server log"; tail -n 200 "$work/serve.log"
fi
exit "$status"
