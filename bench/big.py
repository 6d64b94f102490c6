"""A 100,000-message maildrop (messages of about 2 KB), and sessions on it.

    python3 big.py write MAILDIR
    python3 big.py time PORT [SESSIONS [SERVER_PID [PAUSE]]]

"time" logs in as b0 (password pw) on 127.0.0.1:PORT and runs login +
UIDL + QUIT, SESSIONS times (default 2): the first session scans (and
Dovecot indexes) it all, the next ones find what the ones before left.
From the third on, each comes PAUSE seconds (default 0) after the one
before, as a client that checks its mail now and then: popd writes its
index (popd-index) only for folders unchanged for a second, which the
second session, right after the first one's QUIT moved everything to cur/,
does not find. With SERVER_PID, each line also tells the CPU the server's
process tree used (see proctree.py) and this client's own.
"""
import hashlib
import os
import poplib
import sys
import time

if sys.argv[1] == "write":
    md = sys.argv[2]
    for sub in ("tmp", "new", "cur"):
        os.makedirs(f"{md}/{sub}", exist_ok=True)
    body = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n" * 24
    for i in range(100000):
        t, s = 1700000000 + i, f"sender{i % 97}@example.org"
        msg = (f"Return-Path: <{s}>\n"
                    f"Received: from mx.example.org (mx.example.org [192.0.2.1])\n"
                    f"\tby mail.example.net with ESMTPS id {t:x}{i:05d}\n"
                    f"\tfor <b0@example.net>; Tue, 14 Nov 2023 22:13:20 +0000\n"
                    f"From: Sender {i % 97} <{s}>\nTo: b0@example.net\n"
                    f"Subject: Message number {i}\n"
                    f"Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
                    f"Message-ID: <{t}.{i}@example.org>\nMIME-Version: 1.0\n"
                    f"Content-Type: text/plain; charset=utf-8\n\n{body}")
        # Named as Dovecot's LDA names them: ,S= size, ,W= size with CRLF.
        raw = msg.encode()
        size, vsize = len(raw), len(raw) + raw.count(b"\n")
        with open(f"{md}/new/{t}.M{i}P1.big,S={size},W={vsize}", "wb") as f:
            f.write(raw)
    sys.exit()

port = int(sys.argv[2])
sessions = int(sys.argv[3]) if len(sys.argv) > 3 else 2
server = int(sys.argv[4]) if len(sys.argv) > 4 else 0
pause = float(sys.argv[5]) if len(sys.argv) > 5 else 0
if server:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.dont_write_bytecode = True  # no __pycache__ in bench/
    import proctree
names = ["first", "second", "third", "fourth"]
for run in range(sessions):
    if run >= 2:
        time.sleep(pause)
    s0 = proctree.cpu(server) if server else 0
    c0 = time.process_time()
    t0 = time.perf_counter()
    p = poplib.POP3("127.0.0.1", port, timeout=600)
    p.user("b0")
    p.pass_("pw")
    t1 = time.perf_counter()
    lines = p.uidl()[1]
    n = len(lines)
    t2 = time.perf_counter()
    p.quit()
    t3 = time.perf_counter()
    cpu = ""
    if server:
        cpu = (f", server CPU {proctree.cpu(server) - s0:.3f}s"
               f", client CPU {time.process_time() - c0:.3f}s")
    digest = hashlib.sha256(b"\n".join(lines)).hexdigest()[:12]
    name = names[run] if run < len(names) else f"#{run + 1}"
    print(f"  {name}: login {t1-t0:.3f}s, UIDL {t2-t1:.3f}s ({n} lines, sha256 {digest}), "
          f"QUIT {t3-t2:.3f}s, total {t3-t0:.3f}s{cpu}")
