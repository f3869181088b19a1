#!/usr/bin/env python3
"""fake_vendors: a loopback HTTPS server speaking the documented contracts
of the vendor APIs cordon's provider profiles drive (no vendor product can
run on a test machine).

  fake_vendors.py --dir DIR --port PORT --key-file K --secret-file S

Generates DIR/ca.pem (the test CA), DIR/server.pem + server.key (signed by
it, for 127.0.0.1) and DIR/other-ca.pem (an unrelated CA, for the
verification-failure test) with the openssl CLI, then serves on
127.0.0.1:PORT and writes DIR/fake.pid and DIR/fake.ready.

Vendors (credentials: K is the key/client id, S the secret/token):
  OPNsense     basic K:S     /api/firewall/alias_util/{list,add,delete}/ALIAS
  CrowdStrike  OAuth2 K,S    /oauth2/token, /devices/entities/devices/v2,
                             /devices/entities/devices-actions/v2
  SentinelOne  ApiToken S    /web/api/v2.1/agents, .../agents/actions/...
  webhook      Bearer S      POST /cordon/isolation

Control (no auth, loopback only): GET /_ctl/requests (recorded requests),
POST /_ctl/reset, POST /_ctl/fail {"method","prefix","status","count",
"headers","body"} (inject answers), POST /_ctl/state {"aliases": {...},
"devices": {...}, "agents": {...}}, POST /_ctl/expire_tokens,
POST /_ctl/opnsense_failed {"on": true} (200 with "status":"failed").
"""
import argparse
import base64
import json
import os
import secrets
import ssl
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {}


def reset():
    STATE.clear()
    STATE.update({
        "requests": [],
        "fail": [],
        "aliases": {"cordon_quarantine": []},
        "devices": {},      # crowdstrike id -> {"status", "polls"}
        "agents": {},       # sentinelone id -> {"networkStatus", "polls"}
        "tokens": set(),
        "opnsense_failed": False,
    })


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certs(d):
    def p(n):
        return os.path.join(d, n)
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                "2", "-subj", "/CN=cordon test " + ca, "-keyout",
                p(ca + ".key"), "-out", p(ca + ".pem"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", p("server.key"), "-out", p("server.csr"))
    with open(p("server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"),
            "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "2",
            "-extfile", p("server.ext"), "-out", p("server.pem"))


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-vendors"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj=None, headers=None, raw=None):
        body = raw if raw is not None else (
            b"" if obj is None else json.dumps(obj).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def handle_any(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        path = self.path
        if path.startswith("/_ctl/"):
            with LOCK:
                return self.control(method, path, body)
        with LOCK:
            STATE["requests"].append({
                "method": method, "path": path, "body": body,
                "authorization": self.headers.get("Authorization", ""),
                "content_type": self.headers.get("Content-Type", ""),
            })
            for f in STATE["fail"]:
                if f["count"] > 0 and path.startswith(f["prefix"]) and \
                        f.get("method", method) == method:
                    f["count"] -= 1
                    return self.reply(f["status"], f.get("body", {}),
                                      f.get("headers"))
            u = urllib.parse.urlsplit(path)
            q = urllib.parse.parse_qs(u.query)
            p = u.path
            if p.startswith("/api/firewall/alias_util/"):
                return self.opnsense(method, p, body)
            if p.startswith("/oauth2/") or p.startswith("/devices/"):
                return self.crowdstrike(method, p, q, body)
            if p.startswith("/web/api/v2.1/"):
                return self.sentinelone(method, p, q, body)
            if p == "/cordon/isolation":
                return self.webhook(method, body)
            return self.reply(404, {"error": "no such endpoint"})

    # -- control ---------------------------------------------------------
    def control(self, method, path, body):
        arg = json.loads(body) if body else {}
        if path == "/_ctl/requests":
            return self.reply(200, STATE["requests"])
        if path == "/_ctl/reset":
            reset()
            return self.reply(200, {"ok": True})
        if path == "/_ctl/fail":
            arg.setdefault("count", 1)
            STATE["fail"].append(arg)
            return self.reply(200, {"ok": True})
        if path == "/_ctl/state":
            for k in ("aliases", "devices", "agents"):
                STATE[k].update(arg.get(k, {}))
            return self.reply(200, {"ok": True})
        if path == "/_ctl/get":
            return self.reply(200, {k: STATE[k] for k in
                                    ("aliases", "devices", "agents")})
        if path == "/_ctl/expire_tokens":
            STATE["tokens"].clear()
            return self.reply(200, {"ok": True})
        if path == "/_ctl/opnsense_failed":
            STATE["opnsense_failed"] = bool(arg.get("on"))
            return self.reply(200, {"ok": True})
        return self.reply(404, {"error": "no such control"})

    # -- OPNsense --------------------------------------------------------
    def opnsense(self, method, p, body):
        want = "Basic " + base64.b64encode(
            (KEY + ":" + SECRET).encode()).decode()
        if self.headers.get("Authorization") != want:
            return self.reply(401, {"status": 401,
                                    "message": "Authentication Failed"})
        parts = p.split("/")      # ['', 'api', 'firewall', 'alias_util', op, alias]
        if len(parts) != 6:
            return self.reply(404, {"errorMessage": "Endpoint not found"})
        op, alias = parts[4], urllib.parse.unquote(parts[5])
        if alias not in STATE["aliases"]:
            return self.reply(200, {"status": "failed"})
        rows = STATE["aliases"][alias]
        if op == "list":
            return self.reply(200, {"total": len(rows), "rowCount": len(rows),
                                    "current": 1,
                                    "rows": [{"ip": ip} for ip in rows]})
        if method != "POST" or op not in ("add", "delete"):
            return self.reply(404, {"errorMessage": "Endpoint not found"})
        try:
            addr = json.loads(body)["address"]
        except Exception:
            return self.reply(200, {"status": "failed"})
        if STATE["opnsense_failed"]:
            return self.reply(200, {"status": "failed"})
        if op == "add" and addr not in rows:
            rows.append(addr)
        if op == "delete" and addr in rows:
            rows.remove(addr)
        return self.reply(200, {"status": "done"})

    # -- CrowdStrike -----------------------------------------------------
    def crowdstrike(self, method, p, q, body):
        meta = {"query_time": 0.01, "trace_id": secrets.token_hex(8)}
        if p == "/oauth2/token" and method == "POST":
            f = urllib.parse.parse_qs(body)
            if f.get("client_id") != [KEY] or \
                    f.get("client_secret") != [SECRET]:
                return self.reply(401, {"meta": meta, "errors": [
                    {"code": 401, "message": "access denied"}]})
            tok = secrets.token_hex(16)
            STATE["tokens"].add(tok)
            return self.reply(201, {"access_token": tok,
                                    "token_type": "bearer",
                                    "expires_in": 1799})
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in STATE["tokens"]:
            return self.reply(401, {"meta": meta, "errors": [
                {"code": 401, "message": "access denied, authorization "
                 "failed"}]})
        if p == "/devices/entities/devices/v2" and method == "GET":
            res = []
            for i in q.get("ids", []):
                d = STATE["devices"].setdefault(
                    i, {"status": "normal", "polls": 0})
                d["polls"] += 1
                if d["status"].endswith("_pending") and d["polls"] >= 2:
                    d["status"] = "contained" if \
                        d["status"] == "containment_pending" else "normal"
                res.append({"device_id": i, "status": d["status"]})
            return self.reply(200, {"meta": meta, "resources": res,
                                    "errors": []})
        if p == "/devices/entities/devices-actions/v2" and method == "POST":
            act = q.get("action_name", [""])[0]
            ids = json.loads(body).get("ids", [])
            res = []
            for i in ids:
                if i.startswith("missing"):
                    return self.reply(404, {"meta": meta, "resources": [],
                                            "errors": [{"code": 404,
                                                        "message": "not found"}]})
                d = STATE["devices"].setdefault(
                    i, {"status": "normal", "polls": 0})
                if act == "contain":
                    if d["status"] != "contained":
                        d["status"] = "containment_pending"
                elif act == "lift_containment":
                    if d["status"] != "normal":
                        d["status"] = "lift_containment_pending"
                else:
                    return self.reply(400, {"meta": meta, "errors": [
                        {"code": 400, "message": "bad action_name"}]})
                d["polls"] = 0
                res.append({"id": i, "path": ""})
            return self.reply(202, {"meta": meta, "resources": res,
                                    "errors": []})
        return self.reply(404, {"meta": meta, "errors": [{"code": 404}]})

    # -- SentinelOne -----------------------------------------------------
    def sentinelone(self, method, p, q, body):
        if self.headers.get("Authorization") != "ApiToken " + SECRET:
            return self.reply(401, {"errors": [{"code": 4010010,
                                                "title": "Unauthorized"}]})
        if p == "/web/api/v2.1/agents" and method == "GET":
            data = []
            for i in q.get("ids", []):
                if i.startswith("missing"):
                    continue
                a = STATE["agents"].setdefault(
                    i, {"networkStatus": "connected", "polls": 0})
                a["polls"] += 1
                if a["networkStatus"] == "disconnecting" and a["polls"] >= 2:
                    a["networkStatus"] = "disconnected"
                if a["networkStatus"] == "connecting" and a["polls"] >= 2:
                    a["networkStatus"] = "connected"
                data.append({"id": i, "networkStatus": a["networkStatus"]})
            return self.reply(200, {"data": data, "pagination": {
                "totalItems": len(data), "nextCursor": None}})
        if p in ("/web/api/v2.1/agents/actions/disconnect",
                 "/web/api/v2.1/agents/actions/connect") and method == "POST":
            ids = json.loads(body).get("filter", {}).get("ids", [])
            n = 0
            for i in ids:
                if i.startswith("missing"):
                    continue
                a = STATE["agents"].setdefault(
                    i, {"networkStatus": "connected", "polls": 0})
                a["networkStatus"] = "disconnecting" if \
                    p.endswith("disconnect") else "connecting"
                a["polls"] = 0
                n += 1
            return self.reply(200, {"data": {"affected": n}})
        return self.reply(404, {"errors": [{"code": 4040000}]})

    # -- generic webhook -------------------------------------------------
    def webhook(self, method, body):
        if self.headers.get("Authorization") != "Bearer " + SECRET:
            return self.reply(401, {"error": "unauthorized"})
        try:
            json.loads(body)
        except Exception:
            return self.reply(400, {"error": "not json"})
        return self.reply(202, {"accepted": True})


def main():
    global KEY, SECRET
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key-file", required=True)
    ap.add_argument("--secret-file", required=True)
    a = ap.parse_args()
    KEY = open(a.key_file).read().strip()
    SECRET = open(a.secret_file).read().strip()
    reset()
    if not os.path.exists(os.path.join(a.dir, "server.pem")):
        make_certs(a.dir)
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(a.dir, "server.pem"),
                        os.path.join(a.dir, "server.key"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(os.path.join(a.dir, "fake.pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    with open(os.path.join(a.dir, "fake.ready"), "w") as f:
        f.write("ready\n")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


KEY = SECRET = ""
if __name__ == "__main__":
    sys.exit(main())
