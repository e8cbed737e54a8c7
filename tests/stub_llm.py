"""A real HTTP stub of an LLM server on 127.0.0.1: OpenAI-compatible and Ollama chat APIs.

It answers with canned replies (in order, the last one repeating) and records every request,
so tests exercise the real client libraries, HTTP and streaming included.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StubLLM:
    def __init__(self, replies: list[str]) -> None:
        self.replies = list(replies)
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def _reply(self) -> str:
                return stub.replies.pop(0) if len(stub.replies) > 1 else stub.replies[0]

            def do_GET(self) -> None:  # model listings some clients ask for
                self._json({"object": "list", "data": [{"id": "stub", "object": "model"}], "models": []})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                stub.requests.append({"path": self.path, "body": body})
                text = self._reply()
                if self.path.endswith("/chat/completions"):
                    self._openai(body, text)
                elif self.path.endswith("/api/chat"):
                    self._ollama(body, text)
                else:
                    self.send_error(404)

            def _json(self, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _openai(self, body: dict, text: str) -> None:
                base = {"id": "chatcmpl-stub", "created": int(time.time()), "model": body.get("model", "stub")}
                if not body.get("stream"):
                    self._json({
                        **base,
                        "object": "chat.completion",
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": text}}],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                    })
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                words = text.split(" ")
                for i, word in enumerate(words):
                    piece = word + (" " if i < len(words) - 1 else "")
                    chunk = {**base, "object": "chat.completion.chunk",
                             "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                done = {**base, "object": "chat.completion.chunk",
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())

            def _ollama(self, body: dict, text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.end_headers()
                stamp = "2026-01-01T00:00:00Z"
                for word in text.split(" "):
                    line = {"model": body.get("model"), "created_at": stamp, "done": False,
                            "message": {"role": "assistant", "content": word + " "}}
                    self.wfile.write((json.dumps(line) + "\n").encode())
                final = {"model": body.get("model"), "created_at": stamp, "done": True, "done_reason": "stop",
                         "message": {"role": "assistant", "content": ""}, "eval_count": 1, "prompt_eval_count": 1}
                self.wfile.write((json.dumps(final) + "\n").encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> StubLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
