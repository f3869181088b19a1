#!/usr/bin/env python3
"""fake_hec: a loopback HTTPS server speaking the documented contract of
Splunk's HTTP Event Collector (no Splunk can run on a test machine).

  fake_hec.py --dir DIR --port PORT --token-file F

Generates DIR/ca.pem and DIR/server.pem + server.key (for 127.0.0.1)
with the openssl CLI unless they exist (a restart keeps them), serves
POST /services/collector/event on 127.0.0.1:PORT and writes DIR/hec.pid
and DIR/hec.ready.

The contract (Splunk "Format events for HTTP Event Collector" and "HTTP
Event Collector error codes"): "Authorization: Splunk TOKEN"; a body of
one or more concatenated JSON event objects, each with an "event" field;
answers 200 {"text":"Success","code":0}; 401 code 2 (no token) or 3
(invalid authorization); 403 code 4 (invalid token); 400 code 5 (no
data), 6 (invalid data format, with "invalid-event-number") or 12
(event field is required); 503 code 9 (server is busy).

Only events of a request answered 200 are indexed: each is appended, as
one JSON line, to DIR/events.jsonl before the answer is sent.  Every
request appends "STATUS NEVENTS" to DIR/requests.log.

Fault injection: DIR/fail.json, a list of {"status": 503|429|400|500|
"stall", "count": N, "seconds": S}, read at each request; the first entry
answers the next N requests (a "stall" reads the request, indexes nothing,
waits S seconds and closes the connection without an answer).
"""
import argparse
import json
import os
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
DIR = ""
TOKEN = ""

ANSWERS = {
    503: {"text": "Server is busy", "code": 9},
    429: {"text": "Server is busy", "code": 9},
    500: {"text": "Internal server error", "code": 8},
    400: {"text": "Invalid data format", "code": 6,
          "invalid-event-number": 0},
}


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certs(d):
    def p(n):
        return os.path.join(d, n)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=cordon test hec ca", "-keyout", p("ca.key"),
            "-out", p("ca.pem"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", p("server.key"), "-out", p("server.csr"))
    with open(p("server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"),
            "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "2",
            "-extfile", p("server.ext"), "-out", p("server.pem"))


def take_fault():
    """The injected answer for this request, or None."""
    path = os.path.join(DIR, "fail.json")
    with LOCK:
        try:
            with open(path) as f:
                faults = json.load(f)
        except (OSError, ValueError):
            return None
        if not faults:
            return None
        ft = dict(faults[0])
        faults[0]["count"] = faults[0].get("count", 1) - 1
        if faults[0]["count"] <= 0:
            faults.pop(0)
        with open(path + ".tmp", "w") as f:
            json.dump(faults, f)
        os.rename(path + ".tmp", path)
        return ft


def split_events(body):
    """Concatenated JSON objects -> list, or (index, code) on error."""
    dec = json.JSONDecoder()
    text = body.decode("utf-8")
    out, i = [], 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            return out
        try:
            obj, i = dec.raw_decode(text, i)
        except ValueError:
            return (len(out), 6)
        if not isinstance(obj, dict) or "event" not in obj:
            return (len(out), 12)
        out.append(obj)


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-hec"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj, nevents=0):
        body = json.dumps(obj).encode()
        with LOCK:
            with open(os.path.join(DIR, "requests.log"), "a") as f:
                f.write("%d %d\n" % (status, nevents))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        if self.path != "/services/collector/event":
            return self.reply(404, {"text": "Not found", "code": 404})
        auth = self.headers.get("Authorization")
        if auth is None:
            return self.reply(401, {"text": "Token is required", "code": 2})
        if not auth.startswith("Splunk "):
            return self.reply(401, {"text": "Invalid authorization",
                                    "code": 3})
        if auth[len("Splunk "):] != TOKEN:
            return self.reply(403, {"text": "Invalid token", "code": 4})
        ft = take_fault()
        if ft is not None and ft.get("status") == "stall":
            with LOCK:
                with open(os.path.join(DIR, "requests.log"), "a") as f:
                    f.write("stall 0\n")
            time.sleep(ft.get("seconds", 5))
            self.close_connection = True
            return None
        if ft is not None:
            return self.reply(ft["status"], ANSWERS[ft["status"]])
        if not body:
            return self.reply(400, {"text": "No data", "code": 5})
        evs = split_events(body)
        if isinstance(evs, tuple):
            return self.reply(400, {
                "text": "Invalid data format" if evs[1] == 6 else
                "Event field is required", "code": evs[1],
                "invalid-event-number": evs[0]})
        with LOCK:
            with open(os.path.join(DIR, "events.jsonl"), "a") as f:
                for e in evs:
                    f.write(json.dumps(e, sort_keys=True) + "\n")
                f.flush()
                os.fsync(f.fileno())
        return self.reply(200, {"text": "Success", "code": 0}, len(evs))


def main():
    global DIR, TOKEN
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token-file", required=True)
    a = ap.parse_args()
    DIR = a.dir
    with open(a.token_file) as f:
        TOKEN = f.read().strip()
    if not os.path.exists(os.path.join(DIR, "server.pem")):
        make_certs(DIR)
    ThreadingHTTPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(DIR, "server.pem"),
                        os.path.join(DIR, "server.key"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(os.path.join(DIR, "hec.pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    with open(os.path.join(DIR, "hec.ready"), "w") as f:
        f.write("ready\n")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
