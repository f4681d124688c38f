#!/usr/bin/env python3
"""tls-registry.py PORT CERT KEY CA: a read-only OCI registry on 127.0.0.1:PORT over TLS that
accepts only clients with a certificate signed by CA (mutual TLS), serving one image, lab/tls:1
(one layer with one file). What a private registry with its own CA and client certificates is to
containerd: a pull works only with the CA and the client key pair configured for the host.
Each request is logged to stdout with the client certificate's CN.

tls-registry.py PORT --plain: the same registry over plain HTTP, serving lab/plain:1 (the lab's
proxy reaches it by a host name only the proxy resolves: lab/proxy-up.sh)."""
import hashlib
import io
import json
import ssl
import sys
import tarfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port = int(sys.argv[1])
PLAIN = sys.argv[2:] == ["--plain"]
if not PLAIN:
    cert, key, ca = sys.argv[2], sys.argv[3], sys.argv[4]
IMAGE = "lab/plain:1" if PLAIN else "lab/tls:1"
REPO = IMAGE.split(":")[0]


def digest(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


def layer() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        data = b"served over plain HTTP by lab/tls-registry.py\n" if PLAIN else b"served over mutual TLS by lab/tls-registry.py\n"
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        t.addfile(info, io.BytesIO(data))
    return out.getvalue()


LAYER = layer()
CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": [digest(LAYER)]}}).encode()
MANIFEST = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(CONFIG), "size": len(CONFIG)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(LAYER), "size": len(LAYER)}],
}).encode()
BLOBS = {digest(CONFIG): CONFIG, digest(LAYER): LAYER}
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


class Registry(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, body: bytes):
        path = self.path.split("?")[0]
        if path in ("/v2", "/v2/"):
            return self.send(200, b"{}", "application/json")
        prefix = f"/v2/{REPO}/"
        if path in (prefix + "manifests/1", prefix + "manifests/" + digest(MANIFEST)):
            return self.send(200, MANIFEST, MANIFEST_TYPE, digest(MANIFEST), body)
        if path.startswith(prefix + "blobs/") and path[len(prefix + "blobs/"):] in BLOBS:
            b = BLOBS[path[len(prefix + "blobs/"):]]
            return self.send(200, b, "application/octet-stream", digest(b), body)
        return self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}', "application/json")

    def send(self, code: int, data: bytes, ctype: str, dgst: str = "", body: bool = True):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        if dgst:
            self.send_header("Docker-Content-Digest", dgst)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_GET(self):
        self.answer(True)

    def do_HEAD(self):
        self.answer(False)

    def log_message(self, fmt, *args):
        peer = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
        subject = dict(x[0] for x in (peer or {}).get("subject", ()))
        print(f"client {subject.get('commonName', '-')}: {fmt % args}", flush=True)


server = ThreadingHTTPServer(("127.0.0.1", port), Registry)
if PLAIN:
    print(f"serving {IMAGE} on http://127.0.0.1:{port}", flush=True)
else:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"serving {IMAGE} on https://127.0.0.1:{port} (client certificates of {ca} only)", flush=True)
server.serve_forever()
