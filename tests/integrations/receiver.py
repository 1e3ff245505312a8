"""A partner's webhook receiver, for the webhook tests: a real HTTP server on 127.0.0.1 in a thread,
verifying every event exactly as docs/integrations.md tells a partner to (the signature
over `<timestamp>.<body>`, a timestamp at most five minutes old), and keeping each event once by
its id, as a partner must.

What it answers is scripted, one outcome per request, then "up":

- "up": 204, the event taken;
- "down": 503 before reading anything (the partner's application is down);
- "hangup": the connection closed with no answer (a crashed process, a proxy cutting it);
- "lost": the event taken, then 500 (its answer lost): the same event comes again;
- "gone": 410 (the URL is wrong for good); "moved": 302 to elsewhere.
"""

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE = 300  # seconds: older timestamps are refused (a replayed request)


def verify(secret: bytes, headers, body: bytes, tolerance=TOLERANCE) -> bool:
    """The partner's check, as the docs give it."""
    timestamp = headers.get("X-Suqu-Timestamp", "")
    signature = headers.get("X-Suqu-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


class Receiver:
    def __init__(self, secret):
        self.secret = secret
        self.outcomes = deque()
        self.lock = threading.Lock()
        self.arrivals = []  # the event id of every verified request, repeats included
        self.events = {}  # event id → the event, kept once (the partner's dedup)
        self.refused = []  # requests whose signature or timestamp did not verify
        self.attempts = 0  # every request, whatever was answered
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/suqu/events"

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def script(self, *outcomes):
        self.outcomes.extend(outcomes)

    def in_order(self) -> list[dict]:
        """The events kept, in the order they first arrived."""
        return list(self.events.values())

    def handle(self, request):
        with self.lock:
            self.attempts += 1
            outcome = self.outcomes.popleft() if self.outcomes else "up"
        if outcome == "hangup":
            request.close_connection = True
            request.connection.close()
            return
        if outcome in ("down", "gone", "moved"):
            status = {"down": 503, "gone": 410, "moved": 302}[outcome]
            request.send_response(status)
            if outcome == "moved":
                request.send_header("Location", "http://127.0.0.1:9/elsewhere")
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        body = request.rfile.read(int(request.headers.get("Content-Length", 0)))
        with self.lock:
            if not verify(self.secret.encode(), request.headers, body):
                self.refused.append(body)
                status = 401
            else:
                event = json.loads(body)
                assert request.headers["X-Suqu-Event"] == event["event_id"]
                self.arrivals.append(event["event_id"])
                self.events.setdefault(event["event_id"], event)
                status = 500 if outcome == "lost" else 204
        request.send_response(status)
        request.send_header("Content-Length", "0")
        request.end_headers()
