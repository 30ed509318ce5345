"""A Python imaplib session against Freehold's IMAP server.

Usage: imaplib_scenario.py HOST PORT USER PASSWORD. Exits non-zero, with
the reason on stderr, at the first unexpected answer. The test in
python_test.go runs it; another Freehold session changes the mailbox
while this one idles.
"""
import imaplib
import socket
import ssl
import sys
import time

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def check(cond, what):
    if not cond:
        sys.exit("FAILED: " + what)


def ok(res, what):
    typ, data = res
    check(typ == "OK", "%s: %s %r" % (what, typ, data))
    return data


M = imaplib.IMAP4(host, port)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
M.starttls(ssl_context=ctx)
ok(M.login(user, password), "login")
check("IDLE" in M.capabilities and "MOVE" in M.capabilities, "capabilities %r" % (M.capabilities,))

msg = (b"From: Py <py@example.org>\r\nTo: alice@example.org\r\nSubject: from python\r\n"
       b"Message-ID: <py1@example.org>\r\n\r\nHello from imaplib.\r\n")
ok(M.append("INBOX", r"(\Flagged)", imaplib.Time2Internaldate(time.time()), msg), "append")
ok(M.append("INBOX", None, None, msg.replace(b"py1", b"py2").replace(b"python", b"snake")), "append 2")
data = ok(M.select("INBOX"), "select")
check(data == [b"2"], "select count %r" % data)

data = ok(M.fetch("1", "(FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])"), "fetch")
check(b"\\Flagged" in data[0][0] and b"Subject: from python" in data[0][1], "fetch data %r" % data)
data = ok(M.fetch("2", "(RFC822)"), "fetch body")
check(data[0][1] == msg.replace(b"py1", b"py2").replace(b"python", b"snake"), "body round trip %r" % data)
data = ok(M.fetch("2", "(FLAGS)"), "fetch flags")
check(b"\\Seen" in data[0], "RFC822 fetch did not set \\Seen: %r" % data)

ok(M.store("1", "+FLAGS", r"(\Answered $Label1)"), "store")
data = ok(M.search(None, "ANSWERED"), "search")
check(data == [b"1"], "search answered %r" % data)
data = ok(M.search("UTF-8", "SUBJECT", "snake"), "search subject")
check(data == [b"2"], "search subject %r" % data)
data = ok(M.uid("SEARCH", "KEYWORD", "$label1"), "uid search keyword")
check(data == [b"1"], "uid search keyword %r" % data)

ok(M.copy("1", "Archive"), "copy")
typ, data = M.response("COPYUID")
check(data and data[-1].endswith(b" 1 1"), "COPYUID %r" % data)
ok(M.uid("MOVE", "2", "Trash"), "uid move")
data = ok(M.status("Trash", "(MESSAGES)"), "status")
check(b"MESSAGES 1" in data[0], "status trash %r" % data)

ok(M.store("1", "+FLAGS", r"(\Deleted)"), "store deleted")
data = ok(M.expunge(), "expunge")
# imaplib also hands back the EXPUNGE that MOVE reported.
check(data[-1] == b"1", "expunge %r" % data)

# IDLE with raw commands: the test harness appends a message while idling.
M.send(b"I1 IDLE\r\n")
line = M.readline()
check(line.startswith(b"+"), "idle continuation %r" % line)
print("IDLING", flush=True)
M.sock.settimeout(10)
line = M.readline()
check(line.strip() == b"* 1 EXISTS", "idle update %r" % line)
M.send(b"DONE\r\n")
line = M.readline()
check(line.startswith(b"I1 OK"), "idle done %r" % line)

ok(M.select("Archive", readonly=True), "examine")
data = ok(M.fetch("1", "(BODY[TEXT])"), "fetch text")
data = ok(M.fetch("1", "(FLAGS)"), "flags after examine")
check(b"\\Seen" not in data[0], "EXAMINE set \\Seen %r" % data)
ok(M.close(), "close")
M.logout()
print("PASS")
