"""Run the web UI: ``python app.py [--host 127.0.0.1] [--port 7860]``.

Settings come from ``RAG_*`` environment variables (see ``rag.config``). The index is
built on the first run and updated when article files changed. No public share link.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Question answering over the Việt Nam - Lào news articles (web UI).")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (default: %(default)s)")
    args = parser.parse_args(argv)

    from rag.bot import ChatBot
    from rag.config import Settings
    from rag.errors import RagError
    from rag.ui import build_ui

    try:
        bot = ChatBot.from_settings(Settings.from_env(), update=True)
    except RagError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    build_ui(bot).launch(server_name=args.host, server_port=args.port, share=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
