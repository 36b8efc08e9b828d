"""A local receiver playing WeCom's and DingTalk's group robots (http.server on 127.0.0.1, in a thread), and a fake
clock that never sleeps: for the tests of `xueji notify` and the robots page."""

import base64
import hashlib
import hmac
import json
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SECRET = "SEC7f3a9c0e1b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a"
OK = (200, b'{"errcode":0,"errmsg":"ok"}')


class Receiver:
    """WeCom at /cgi-bin/webhook/send?key=K, DingTalk at /robot/send?access_token=T (signature checked): each
    robot answers from its script, then 200 errcode 0."""

    def __init__(self) -> None:
        self.got: list[dict] = []
        self.script: dict[str, list[tuple[int, bytes]]] = defaultdict(list)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                robot = query.get("key") or query.get("access_token", "")
                signed = None
                if parts.path == "/robot/send" and "sign" in query:
                    to_sign = f"{query['timestamp']}\n{SECRET}".encode()
                    expected = hmac.new(SECRET.encode(), to_sign, hashlib.sha256).digest()
                    signed = base64.b64decode(query["sign"]) == expected
                receiver.got.append({"path": parts.path, "robot": robot, "body": data, "signed": signed})
                status, answer = receiver.script[robot].pop(0) if receiver.script[robot] else OK
                if signed is False:
                    status, answer = 200, b'{"errcode":310000,"errmsg":"sign not match"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wecom(self, key: str) -> str:
        return f"{self.base}/cgi-bin/webhook/send?key={key}"

    def dingtalk(self, token: str) -> str:
        return f"{self.base}/robot/send?access_token={token}"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def epoch_ms(self) -> int:
        return 1_790_000_000_000 + int(self.now * 1000)
