"""Warm latency of `ChatBot.ask` against the time to embed the question alone.

For every question of the Q&A sets: the embedding of the question by the index's engine
(what the outside check compares with) and a full ``bot.ask`` (retrieval + answer), each
after a warm-up, repeated ``--repeat`` times. Prints p50/p95 in milliseconds and the ratio.

    python eval/latency.py [--repeat 3] eval/qa_dev.jsonl ...
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.bot import ChatBot
from rag.evaluation import load_qa


def timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("qa", nargs="*", default=["eval/qa_dev.jsonl"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bot = ChatBot.from_settings()
    questions = [i.question for path in args.qa for i in load_qa(Path(path))]
    bot.ask(questions[0])  # warm-up: models, sentence table
    bot.embeddings.embed_queries([questions[0]])
    embed, ask = [], []
    for _ in range(args.repeat):
        for q in questions:
            embed.append(timed(bot.embeddings.embed_queries, [q]))
            ask.append(timed(bot.ask, q))
    p = lambda xs, k: float(np.percentile(xs, k))  # noqa: E731
    print(f"engine {bot.index.engine}; {len(questions)} questions x {args.repeat}")
    print(f"embed question alone: p50 {p(embed, 50):.1f} ms, p95 {p(embed, 95):.1f} ms")
    print(f"ask (warm):           p50 {p(ask, 50):.1f} ms, p95 {p(ask, 95):.1f} ms, mean {statistics.fmean(ask):.1f} ms")
    print(f"ratio of p50s: {p(ask, 50) / p(embed, 50):.2f}x")


if __name__ == "__main__":
    main()
