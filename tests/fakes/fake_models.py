#!/usr/bin/env python3
"""A loopback stand-in for a model host (Hugging Face's /resolve/main/ layout) for chorus tests.

Usage: fake_models.py --map REL=FILE [--map REL=FILE ...] [--missing REL] [--drop REL] [--log FILE]
Serves GET /REL with FILE's bytes (Content-Length set, sent in 64 KiB pieces). --missing REL
answers 404 for REL; --drop REL sends half of REL's bytes and closes the connection. Binds
127.0.0.1 on an ephemeral port and prints "PORT <n>".
"""
import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        rel = self.path.lstrip("/")
        if ARGS.log:
            with open(ARGS.log, "a") as f:
                f.write(json.dumps({"path": self.path}) + "\n")
        files = dict(m.split("=", 1) for m in ARGS.map)
        if rel in (ARGS.missing or []) or rel not in files:
            body = b"Entry not found"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        data = open(files[rel], "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if rel in (ARGS.drop or []):
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        for i in range(0, len(data), 65536):
            self.wfile.write(data[i : i + 65536])


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--map", action="append", default=[])
    p.add_argument("--missing", action="append")
    p.add_argument("--drop", action="append")
    p.add_argument("--log")
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("PORT", srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
