"""Run the web UI: ``python app.py [--host 127.0.0.1] [--port 7860]``.

Settings come from ``RAG_*`` environment variables (see ``rag.config``). The index is
built on the first run and updated when article files changed. No public share link.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Question answering over the Việt Nam - Lào news articles (web UI).")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (default: %(default)s)")
    parser.add_argument("--articles", type=Path, help="articles directory [RAG_ARTICLES_DIR; data/articles]")
    parser.add_argument("--index", type=Path, help="index directory [RAG_INDEX_DIR; .rag-index]")
    args = parser.parse_args(argv)

    from rag.bot import ChatBot
    from rag.config import Settings
    from rag.errors import RagError
    from rag.ui import launch

    try:
        settings = Settings.from_env(articles_dir=args.articles, index_dir=args.index)
        logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
        bot = ChatBot.from_settings(settings, update=True)
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    # Gradio refuses uploads over RAG_MAX_UPLOAD_BYTES before they reach the disk; the UI checks again.
    launch(bot, server_name=args.host, server_port=args.port, share=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
