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
  pfSense      X-API-Key S   /api/v2/firewall/aliases, .../alias (PATCH with
                             append/remove), .../apply (async apply)
  FortiGate    Bearer S      /api/v2/monitor/user/banned/{select,add_users,
                             clear_users}
  PAN-OS       X-PAN-KEY S   POST /api/ type=user-id (uid-message register/
                             unregister), type=op (show registered-ip); XML
  Defender     OAuth2 K,S    /login/TENANT/oauth2/v2.0/token (scope),
                             /api/machines ($filter), .../isolate|unisolate,
                             /api/machineactions[/ID]

Every request body is checked to be exactly the escaped form cordon must
send (canonical JSON, RFC 3986 form fields, XML entities, OData quotes):
a value that crossed unescaped or double-escaped is refused the way the
vendor refuses a malformed request, so the test sees the failure.

Control (no auth, loopback only): GET /_ctl/requests (recorded requests),
POST /_ctl/reset, POST /_ctl/fail {"method","prefix","status","count",
"headers","body"|"raw","body_has","delay","then_ok"} (inject answers; raw:
a literal, e.g. malformed, body; body_has: only requests whose body holds
it; delay: seconds to wait first; then_ok: then handle it normally; state:
{"dag": {...}, ...} applied when it fires, as if another client acted), POST /_ctl/state {"aliases": {...}, "devices": {...}, "agents":
{...}, "pf_aliases": [...], "banned": {...}, "dag": {...}, "machines":
[...]}, POST /_ctl/expire_tokens, POST /_ctl/client {"id", "secret"} (one more
CrowdStrike OAuth2 client; each recorded request names the client whose
token it carried, "token_client", and its arrival time, "time"),
POST /_ctl/opnsense_failed {"on": true} (200 with "status":"failed").
"""
import argparse
import base64
import ipaddress
import json
import os
import re
import secrets
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
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
        # OAuth2 clients (id -> secret) and which client each token is for
        "clients": {KEY: SECRET},
        "token_client": {},
        "opnsense_failed": False,
        # pfSense: config aliases; "dirty" until an apply finished
        "pf_aliases": [{"id": 0, "name": "other_alias", "type": "host",
                        "descr": "", "address": ["192.0.2.1"],
                        "detail": [""]},
                       {"id": 1, "name": "cordon_quarantine", "type": "host",
                        "descr": "", "address": [], "detail": []}],
        "pf_dirty": False, "pf_apply_polls": 0,
        # FortiGate: banned ip -> {"created", "expires"}
        "banned": {},
        # PAN-OS: ip -> [tags]
        "dag": {},
        # Defender: machines and their actions
        "machines": [
            {"id": "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c",
             "computerDnsName": "ws-01.corp.example",
             "lastIpAddress": "10.213.1.1"},
            {"id": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b",
             "computerDnsName": "ws-02.corp.example",
             "lastIpAddress": "10.213.1.2"},
        ],
        "mactions": [],
    })


SEQ = [0]


def maction(mid, typ, status, comment=""):
    """A Defender machineAction entity as the API documents it."""
    SEQ[0] += 1
    return {"id": "%08x-%04x-4000-8000-%012x" % (SEQ[0], SEQ[0], SEQ[0]),
            "type": typ, "scope": "Full" if typ == "Isolate" else None,
            "requestor": "cordon-app", "requestorComment": comment,
            "status": status, "machineId": mid,
            "creationDateTimeUtc": "2026-01-01T00:00:%02d.000Z" %
            (SEQ[0] % 60), "polls": 0, "seq": SEQ[0]}


def canonical_json(body):
    """The decoded body if it is exactly the compact JSON cordon's
    templates produce (so every value was JSON-escaped), else None."""
    try:
        v = json.loads(body)
    except ValueError:
        return None
    if json.dumps(v, separators=(",", ":"), ensure_ascii=False) != body:
        return None
    return v


def pct_upper(s):
    """%xx and %XX are the same octet (RFC 3986 2.1): compare one form."""
    return re.sub(r"%[0-9a-fA-F]{2}", lambda m: m.group(0).upper(), s)


def form_fields(body):
    """[(name, value)] if body is exactly RFC 3986 form encoding (every
    reserved byte as %XX), else None."""
    out = []
    for kv in body.split("&") if body else []:
        k, eq, v = kv.partition("=")
        if not eq:
            return None
        dk = urllib.parse.unquote(k, errors="strict")
        dv = urllib.parse.unquote(v, errors="strict")
        if urllib.parse.quote(dk, safe="-._~") != pct_upper(k) or \
                urllib.parse.quote(dv, safe="-._~") != pct_upper(v):
            return None
        out.append((dk, dv))
    return out


def xesc(s):
    """XML text/attribute escaping, as cordon's |xml does it."""
    return (s.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&quot;")
            .replace("'", "&apos;"))


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
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, str(v))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass    # the client gave up (a timeout test)

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
                "x_api_key": self.headers.get("X-API-Key", ""),
                "x_pan_key": self.headers.get("X-PAN-KEY", ""),
                # whose OAuth2 token the request carried ("" if none)
                "token_client": STATE["token_client"].get(
                    self.headers.get("Authorization", "")[7:], ""),
                "time": time.time(),
            })
            for f in STATE["fail"]:
                if f["count"] > 0 and path.startswith(f["prefix"]) and \
                        f.get("method", method) == method and \
                        f.get("body_has", "") in body:
                    f["count"] -= 1
                    # a side effect: what another client did meanwhile
                    for k, v in f.get("state", {}).items():
                        STATE[k].update(v)
                    # answer late (past the client's timeout): the
                    # request was received and acted on all the same
                    if f.get("delay"):
                        time.sleep(f["delay"])
                        if f.get("then_ok"):
                            break
                    if "raw" in f:
                        return self.reply(f["status"], headers=f.get(
                            "headers"), raw=f["raw"].encode())
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
            if p.startswith("/api/v2/firewall/"):
                return self.pfsense(method, p, q, body, u.query)
            if p.startswith("/api/v2/monitor/user/banned/"):
                return self.fortigate(method, p, q, body)
            if p == "/api/":
                return self.panos(method, body)
            if p.startswith("/login/"):
                return self.defender_token(method, p, body)
            if p.startswith("/api/machines") or \
                    p.startswith("/api/machineactions"):
                return self.defender(method, p, u.query, body)
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
            for k in ("aliases", "devices", "agents", "banned", "dag"):
                STATE[k].update(arg.get(k, {}))
            for k in ("pf_aliases",):
                if k in arg:
                    STATE[k] = arg[k]
            for m in arg.get("machines", []):
                STATE["machines"].append(m)
                if m.get("isolated"):
                    STATE["mactions"].append(maction(m["id"], "Isolate",
                                                     "Succeeded"))
            return self.reply(200, {"ok": True})
        if path == "/_ctl/get":
            return self.reply(200, {k: STATE[k] for k in
                                    ("aliases", "devices", "agents",
                                     "pf_aliases", "pf_dirty", "banned",
                                     "dag", "machines", "mactions")})
        if path == "/_ctl/client":
            STATE["clients"][arg["id"]] = arg["secret"]
            return self.reply(200, {"ok": True})
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
            cid = (f.get("client_id") or [""])[0]
            if cid not in STATE["clients"] or \
                    f.get("client_secret") != [STATE["clients"][cid]]:
                return self.reply(401, {"meta": meta, "errors": [
                    {"code": 401, "message": "access denied"}]})
            tok = secrets.token_hex(16)
            STATE["tokens"].add(tok)
            STATE["token_client"][tok] = cid
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

    # -- pfSense (pfrest v2) ---------------------------------------------
    def pf_reply(self, code, data, rid="SUCCESS", message=""):
        status = {200: "ok", 400: "bad request", 401: "unauthorized",
                  404: "not found", 503: "service unavailable"}.get(code, "")
        return self.reply(code, {"code": code, "status": status,
                                 "response_id": rid, "message": message,
                                 "data": data})

    def pfsense(self, method, p, q, body, rawq):
        if self.headers.get("X-API-Key") != SECRET:
            return self.pf_reply(401, [], "AUTH_AUTHENTICATION_FAILED",
                                 "Authentication failed")
        if p == "/api/v2/firewall/aliases" and method == "GET":
            # the query must be exactly name=<RFC 3986 %XX of the name>
            if set(q) - {"name"} or "name" in q and pct_upper(rawq) != \
                    "name=" + urllib.parse.quote(q["name"][0], safe="-._~"):
                return self.pf_reply(400, [], "QUERY_INVALID",
                                     "query not in the escaped form")
            rows = [a for a in STATE["pf_aliases"]
                    if all(a.get(k) == v[0] for k, v in q.items())]
            return self.pf_reply(200, rows)
        if p == "/api/v2/firewall/alias" and method == "PATCH":
            req = canonical_json(body)
            if not isinstance(req, dict):
                return self.pf_reply(400, [], "REQUEST_BODY_INVALID",
                                     "body is not the canonical JSON")
            if type(req.get("id")) is not int:
                return self.pf_reply(400, [], "FIELD_INVALID_TYPE",
                                     "Field id must be of type integer")
            al = [a for a in STATE["pf_aliases"] if a["id"] == req["id"]]
            if not al:
                return self.pf_reply(404, [], "MODEL_OBJECT_NOT_FOUND",
                                     "Object with ID not found")
            a = al[0]
            addrs = req.get("address", [])
            for x in addrs:
                try:
                    ipaddress.ip_address(x)
                except ValueError:
                    return self.pf_reply(400, [],
                                         "FIREWALL_ALIAS_ADDRESS_INVALID",
                                         "Field address contains an "
                                         "invalid value")
            if req.get("append") is True:
                for x in addrs:
                    if x not in a["address"]:
                        a["address"].append(x)
                        a["detail"].append("")
            elif req.get("remove") is True:
                for x in addrs:
                    while x in a["address"]:
                        i = a["address"].index(x)
                        del a["address"][i]
                        del a["detail"][i]
            else:
                a["address"] = list(addrs)
            STATE["pf_dirty"] = True
            return self.pf_reply(200, a)
        if p == "/api/v2/firewall/apply":
            if method == "POST":
                # async (the default): the filter reloads in the background
                STATE["pf_apply_polls"] = 0
                return self.pf_reply(200, {"applied": not STATE["pf_dirty"],
                                           "pending_subsystems":
                                           ["aliases"] if STATE["pf_dirty"]
                                           else []})
            STATE["pf_apply_polls"] += 1
            if STATE["pf_apply_polls"] >= 2:
                STATE["pf_dirty"] = False
            return self.pf_reply(200, {"applied": not STATE["pf_dirty"],
                                       "pending_subsystems":
                                       ["aliases"] if STATE["pf_dirty"]
                                       else []})
        return self.pf_reply(404, [], "ENDPOINT_NOT_FOUND", "not found")

    # -- FortiGate (FortiOS monitor user/banned) ---------------------------
    def forti_reply(self, code, extra=None, action=""):
        o = {"http_method": self.command, "status":
             "success" if code == 200 else "error", "http_status": code,
             "vdom": "root", "path": "user", "name": "banned",
             "action": action, "serial": "FGVM00TEST000001",
             "version": "v7.4.4", "build": 2662}
        o.update(extra or {})
        return self.reply(code, o)

    def fortigate(self, method, p, q, body):
        if self.headers.get("Authorization") != "Bearer " + SECRET:
            return self.reply(401, raw=b"")
        if q.get("vdom", ["root"]) != ["root"]:
            return self.forti_reply(424, {"error": -3})
        op = p.rsplit("/", 1)[1]
        now = int(time.time())
        if op == "select" and method == "GET":
            res = [{"ip_address": ip, "ipv6": ":" in ip,
                    "created": b["created"], "expires": b["expires"],
                    "source": "admin"}
                   for ip, b in STATE["banned"].items()]
            return self.forti_reply(200, {"results": res}, "select")
        if op in ("add_users", "clear_users") and method == "POST":
            req = canonical_json(body)
            ips = req.get("ip_addresses") if isinstance(req, dict) else None
            if not isinstance(ips, list) or not ips:
                return self.forti_reply(400, {"error": -651}, op)
            for ip in ips:
                try:
                    ipaddress.ip_address(ip)
                except (ValueError, TypeError):
                    return self.forti_reply(400, {"error": -651}, op)
            if op == "add_users":
                exp = req.get("expiry", 0)
                if type(exp) is not int or exp < 0:
                    return self.forti_reply(400, {"error": -651}, op)
                for ip in ips:
                    STATE["banned"][ip] = {"created": now, "expires":
                                           now + exp if exp else 0}
            else:
                for ip in ips:
                    STATE["banned"].pop(ip, None)
            return self.forti_reply(200, {}, op)
        return self.forti_reply(404, {}, op)

    # -- PAN-OS (XML API) ------------------------------------------------
    def xml_reply(self, status, inner, code=None):
        c = ' code="%d"' % code if code else ""
        raw = ('<response status="%s"%s>%s</response>' %
               (status, c, inner)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml; charset=UTF-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def panos(self, method, body):
        if method != "POST" or "x-www-form-urlencoded" not in \
                self.headers.get("Content-Type", ""):
            return self.xml_reply("error", "<msg>Unsupported request"
                                  "</msg>", 400)
        fields = form_fields(body)
        if fields is None:
            return self.xml_reply("error", "<msg>form fields not in the "
                                  "escaped form</msg>", 400)
        f = dict(fields)
        if self.headers.get("X-PAN-KEY", f.get("key")) != SECRET:
            return self.xml_reply("error", "<result><msg>Invalid Credential"
                                  "</msg></result>", 403)
        try:
            cmd = ET.fromstring(f.get("cmd", ""))
        except ET.ParseError as e:
            return self.xml_reply("error", "<msg><line>%s</line></msg>" %
                                  xesc(str(e)), 400)
        if f.get("type") == "op":
            ip = cmd.findtext("object/registered-ip/ip")
            if cmd.tag != "show" or ip is None or f["cmd"] != \
                    "<show><object><registered-ip><ip>%s</ip>" \
                    "</registered-ip></object></show>" % xesc(ip):
                return self.xml_reply("error", "<msg><line>show: not the "
                                      "escaped form</line></msg>", 17)
            tags = STATE["dag"].get(ip, [])
            ent = ""
            if tags:
                ent = ('\n<entry ip="%s" from_agent="0" persistent="1">\n'
                       '\t<tag>\n%s\t</tag>\n</entry>' %
                       (xesc(ip), "".join("\t\t<member>%s</member>\n" %
                                          xesc(t) for t in tags)))
            return self.xml_reply("success", "<result>%s\n<count>%d</count>"
                                  "</result>" % (ent, 1 if tags else 0))
        if f.get("type") != "user-id" or cmd.tag != "uid-message":
            return self.xml_reply("error", "<msg>bad type</msg>", 400)
        out = []
        for verb in ("register", "unregister"):
            for e in cmd.findall("payload/%s/entry" % verb):
                ip = e.get("ip")
                for m in e.findall("tag/member"):
                    tag = m.text or ""
                    if verb == "register":
                        want = ('<uid-message><version>2.0</version><type>'
                                'update</type><payload><register><entry '
                                'ip="%s"><tag><member timeout="%s">%s'
                                '</member></tag></entry></register>'
                                '</payload></uid-message>' %
                                (xesc(ip), xesc(m.get("timeout", "")),
                                 xesc(tag)))
                    else:
                        want = ('<uid-message><version>2.0</version><type>'
                                'update</type><payload><unregister><entry '
                                'ip="%s"><tag><member>%s</member></tag>'
                                '</entry></unregister></payload>'
                                '</uid-message>' % (xesc(ip), xesc(tag)))
                    if f["cmd"] != want:
                        return self.xml_reply("error", "<msg><line>uid-"
                                              "message not in the escaped "
                                              "form</line></msg>", 400)
                    try:
                        ipaddress.ip_address(ip)
                    except ValueError:
                        return self.xml_reply("error", "<msg><line>invalid "
                                              "ip</line></msg>", 400)
                    tags = STATE["dag"].setdefault(ip, [])
                    if verb == "register":
                        if tag in tags:
                            out.append('<entry ip="%s" message="tag %s '
                                       'already exists, ignore"/>' %
                                       (xesc(ip), xesc(tag)))
                        else:
                            tags.append(tag)
                    else:
                        if tag not in tags:
                            out.append('<entry ip="%s" message="tag %s '
                                       'does not exist, ignore"/>' %
                                       (xesc(ip), xesc(tag)))
                        else:
                            tags.remove(tag)
        if out:
            return self.xml_reply("error", "<msg><line><uid-response>"
                                  "<version>2.0</version><payload><%s>%s"
                                  "</%s></payload></uid-response></line>"
                                  "</msg>" % ("register", "".join(out),
                                              "register"))
        return self.xml_reply("success", "<result><uid-response><version>"
                              "2.0</version><payload/></uid-response>"
                              "</result>")

    # -- Microsoft Defender for Endpoint ---------------------------------
    def defender_token(self, method, p, body):
        parts = p.split("/")    # ['', 'login', TENANT, 'oauth2', 'v2.0', 'token']
        f = dict(form_fields(body) or [])
        if method != "POST" or len(parts) != 6 or parts[3:] != \
                ["oauth2", "v2.0", "token"]:
            return self.reply(404, {"error": "not_found"})
        if parts[2] != "tenant-0001":
            return self.reply(400, {"error": "invalid_request",
                                    "error_description": "AADSTS90002: "
                                    "Tenant not found."})
        if f.get("grant_type") != "client_credentials":
            return self.reply(400, {"error": "unsupported_grant_type"})
        if f.get("scope") != \
                "https://api.securitycenter.microsoft.com/.default":
            return self.reply(400, {"error": "invalid_scope"})
        if f.get("client_id") != KEY or f.get("client_secret") != SECRET:
            return self.reply(401, {"error": "invalid_client",
                                    "error_description": "AADSTS7000215: "
                                    "Invalid client secret provided."})
        tok = secrets.token_hex(16)
        STATE["tokens"].add(tok)
        return self.reply(200, {"token_type": "Bearer", "expires_in": 3599,
                                "ext_expires_in": 3599,
                                "access_token": tok})

    def defender(self, method, p, rawq, body):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in STATE["tokens"]:
            return self.reply(401, {"error": {
                "code": "Unauthorized", "message": "Authorization token "
                "is invalid or expired"}})
        q = {}
        for kv in rawq.split("&") if rawq else []:
            k, _, v = kv.partition("=")
            q[k] = v
        if p == "/api/machines" and method == "GET":
            raw = q.get("$filter", "")
            flt = urllib.parse.unquote(raw)
            m = re.fullmatch(r"id eq '((?:[^']|'')*)' or computerDnsName eq "
                             r"'((?:[^']|'')*)' or lastIpAddress eq "
                             r"'((?:[^']|'')*)'", flt)
            if m is None or len(set(m.groups())) != 1 or \
                    urllib.parse.quote(flt, safe="-._~") != pct_upper(raw):
                return self.reply(400, {"error": {
                    "code": "InvalidRequestBody",
                    "message": "Invalid filter: not the escaped form"}})
            h = m.group(1).replace("''", "'")
            res = [x for x in STATE["machines"] if h in (
                x["id"], x.get("computerDnsName"), x.get("lastIpAddress"))]
            return self.reply(200, {"@odata.context": "https://api."
                                    "securitycenter.microsoft.com/api/"
                                    "$metadata#Machines", "value": res})
        if p == "/api/machineactions" and method == "GET":
            flt = urllib.parse.unquote(q.get("$filter", ""))
            m = re.fullmatch(r"machineId eq '((?:[^']|'')*)' and status eq "
                             r"'Succeeded' and \(type eq 'Isolate' or type "
                             r"eq 'Unisolate'\)", flt)
            if m is None:
                return self.reply(400, {"error": {
                    "code": "InvalidRequestBody", "message":
                    "Invalid filter"}})
            mid = m.group(1).replace("''", "'")
            res = [a for a in STATE["mactions"] if a["machineId"] == mid and
                   a["status"] == "Succeeded" and
                   a["type"] in ("Isolate", "Unisolate")]
            if urllib.parse.unquote(q.get("$orderby", "")) == \
                    "creationDateTimeUtc desc":
                res.sort(key=lambda a: a["seq"], reverse=True)
            if "$top" in q:
                res = res[:int(q["$top"])]
            return self.reply(200, {"value": res})
        m = re.fullmatch(r"/api/machineactions/([^/]+)", p)
        if m and method == "GET":
            aid = urllib.parse.unquote(m.group(1))
            for a in STATE["mactions"]:
                if a["id"] == aid:
                    a["polls"] += 1
                    if a["status"] == "Pending" and a["polls"] >= 1:
                        a["status"] = "InProgress"
                    elif a["status"] == "InProgress" and a["polls"] >= 2:
                        a["status"] = a.pop("outcome", "Succeeded")
                    return self.reply(200, a)
            return self.reply(404, {"error": {"code": "NotFound",
                                              "message": "not found"}})
        m = re.fullmatch(r"/api/machines/([^/]+)/(isolate|unisolate)", p)
        if m and method == "POST":
            mid = urllib.parse.unquote(m.group(1))
            if urllib.parse.quote(mid, safe="-._~") != pct_upper(m.group(1)):
                return self.reply(400, {"error": {
                    "code": "InvalidRequest", "message": "bad path"}})
            mach = [x for x in STATE["machines"] if x["id"] == mid]
            if not mach:
                return self.reply(404, {"error": {
                    "code": "ResourceNotFound",
                    "message": "Machine %s was not found" % mid}})
            req = canonical_json(body)
            if not isinstance(req, dict) or \
                    not isinstance(req.get("Comment"), str) or \
                    (m.group(2) == "isolate" and req.get("IsolationType")
                     not in ("Full", "Selective", "UnManagedDevice")):
                return self.reply(400, {"error": {
                    "code": "InvalidRequestBody",
                    "message": "Request body is incorrect"}})
            typ = "Isolate" if m.group(2) == "isolate" else "Unisolate"
            for a in STATE["mactions"]:
                if a["machineId"] == mid and a["type"] == typ and \
                        a["status"] in ("Pending", "InProgress"):
                    return self.reply(400, {"error": {
                        "code": "ActiveRequestAlreadyExists",
                        "message": "Action is already in progress"}})
            a = maction(mid, typ, "Pending", req["Comment"])
            if mach[0].get("outcome"):
                a["outcome"] = mach[0]["outcome"]
            STATE["mactions"].append(a)
            return self.reply(201, a)
        return self.reply(404, {"error": {"code": "NotFound"}})

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
