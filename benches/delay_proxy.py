"""A loopback HTTP proxy that adds a fixed delay to every request, so that a
benchmark against the emulator sees round trips as a real region does.

Usage: delay_proxy.py TARGET_URL DELAY_MS [LOG]  (prints "port N" when listening)
Each request is handled on its own thread: concurrency is preserved. With
LOG, one line per request is appended to that file: "start end" in seconds
(monotonic clock), from receiving the request to sending the response; the
benchmark derives the chain of requests that waited on one another from it.
"""

import http.client
import http.server
import sys
import threading
import time
from urllib.parse import urlsplit

TARGET = urlsplit(sys.argv[1])
DELAY = float(sys.argv[2]) / 1000.0
# Per connection; the payload is forwarded as it came (still encoded).
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "content-length"}
LOG = sys.argv[3] if len(sys.argv) > 3 else None
log_lock = threading.Lock()
local = threading.local()


def upstream(method, path, body, headers):
    """One request to the emulator over this thread's kept-alive connection
    (http.client: the benchmark measures the emulator, not the proxy's own
    overhead). A connection the emulator closed is opened again once."""
    for attempt in (1, 2):
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection(TARGET.hostname, TARGET.port)
        try:
            local.connection.request(method, path, body=body, headers=headers)
            response = local.connection.getresponse()
            return response, response.read()
        except (http.client.HTTPException, OSError):
            local.connection.close()
            del local.connection
            if attempt == 2:
                raise


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
        time.sleep(DELAY)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        response, payload = upstream(self.command, self.path, body, headers)
        self.send_response(response.status)
        for key, value in response.getheaders():
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
