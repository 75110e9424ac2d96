#!/usr/bin/env python3
"""A loopback stand-in for a model host (Hugging Face's /resolve/<rev>/ layout) for chorus tests.

Usage: fake_models.py --map REL=FILE [--map ...] [--missing REL] [--drop REL] [--drop-once REL]
                      [--corrupt REL] [--log FILE]
Serves GET /REL with FILE's bytes, honouring "Range: bytes=N-" with 206 and Content-Range.
--missing REL answers 404; --drop REL sends half of the requested bytes and closes the
connection (every time); --drop-once REL does that on the first request for REL only;
--corrupt REL flips one byte. Every request is logged as JSON (path, range). Binds 127.0.0.1 on
an ephemeral port and prints "PORT <n>".
"""
import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
SEEN = set()
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        rel = self.path.split("/", 2)[-1] if self.path.count("/") > 1 and ARGS.prefix else self.path.lstrip("/")
        rng = self.headers.get("Range")
        if ARGS.log:
            with LOCK, open(ARGS.log, "a") as f:
                f.write(json.dumps({"path": self.path, "range": rng}) + "\n")
        files = dict(m.split("=", 1) for m in ARGS.map)
        if rel in (ARGS.missing or []) or rel not in files:
            body = b"Entry not found"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        data = bytearray(open(files[rel], "rb").read())
        if rel in (ARGS.corrupt or []):
            data[len(data) // 2] ^= 0xFF
        start = 0
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
        if start:
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        part = bytes(data[start:])
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(part)))
        self.end_headers()
        with LOCK:
            first = rel not in SEEN
            SEEN.add(rel)
        if rel in (ARGS.drop or []) or (first and rel in (ARGS.drop_once or [])):
            self.wfile.write(part[: len(part) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        for i in range(0, len(part), 65536):
            self.wfile.write(part[i : i + 65536])


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--map", action="append", default=[])
    p.add_argument("--missing", action="append")
    p.add_argument("--drop", action="append")
    p.add_argument("--drop-once", action="append")
    p.add_argument("--corrupt", action="append")
    p.add_argument("--prefix", action="store_true", help="strip one leading path component")
    p.add_argument("--log")
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("PORT", srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
