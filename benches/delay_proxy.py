"""A loopback HTTP proxy that adds a fixed delay to every request, so that a
benchmark against the emulator sees round trips as a real region does.

Usage: delay_proxy.py TARGET_URL DELAY_MS [LOG]  (prints "port N" when listening)
Each request is handled on its own thread: concurrency is preserved. With
LOG, one line per request is appended to that file: "start end" in seconds
(monotonic clock), from receiving the request to sending the response; the
benchmark derives the chain of requests that waited on one another from it.
"""

import http.server
import sys
import threading
import time

import requests

TARGET = sys.argv[1].rstrip("/")
DELAY = float(sys.argv[2]) / 1000.0
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}
LOG = sys.argv[3] if len(sys.argv) > 3 else None
log_lock = threading.Lock()
local = threading.local()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The headers and the body go out in two writes; with Nagle's algorithm
    # the body waits for the client's delayed ACK (40 ms on Linux), a stall
    # a real endpoint does not add.
    disable_nagle_algorithm = True

    def forward(self):
        started = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not hasattr(local, "session"):
            local.session = requests.Session()
        time.sleep(DELAY)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        response = local.session.request(
            self.command, TARGET + self.path, data=body, headers=headers,
            allow_redirects=False, stream=False,
        )
        payload = response.content
        self.send_response(response.status_code)
        for key, value in response.headers.items():
            if key.lower() not in HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()
        if LOG:
            with log_lock, open(LOG, "a") as log:
                log.write(f"{started:.6f} {time.monotonic():.6f}\n")

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    # trailctl opens a connection per concurrent call; the default backlog
    # of 5 drops the rest and TCP retries them a second later.
    request_queue_size = 256


server = Server(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(f"port {server.server_address[1]}", flush=True)
server.serve_forever()
