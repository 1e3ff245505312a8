"""`make run` warns before a first start that it takes minutes, and prints the address only once
the site answers a request (a port that accepts connections may still be loading the site)."""

import http.server
import socket
import threading

from suqu.devservices import answers, starting_words


def test_a_first_start_is_announced_as_minutes_before_anything_starts():
    assert "a few minutes" in starting_words(first=True)
    assert "demo history" in starting_words(first=True, demo=True)
    assert "demo" not in starting_words(first=True, demo=False)
    assert "minutes" not in starting_words(first=False)


def test_a_port_that_listens_without_answering_is_not_the_site_yet():
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        # Connections are accepted (by the kernel) but nobody answers them.
        assert not answers(listening.getsockname()[1], timeout=0.5)


def test_a_server_answering_any_status_is_up():
    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert answers(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_a_closed_port_does_not_answer():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert not answers(port, timeout=0.5)
