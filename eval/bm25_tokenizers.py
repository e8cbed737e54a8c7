"""Measure BM25 tokenisations for Vietnamese: syllables + bigrams vs pyvi and underthesea words.

BM25 alone (no vectors, no dates) ranks the chunks of the sample corpus for every answerable
question of the given Q&A sets; English questions use their lexicon expansions, as in the
app. Prints Recall@1, Recall@5 and MRR@10 over ``expected_sources`` (article level), and
the time to tokenise the corpus. The winner is what ``rag.text.lexical_tokens`` does.

    python eval/bm25_tokenizers.py eval/qa_dev.jsonl eval/qa_test.jsonl
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.chunking import chunk_article
from rag.evaluation import load_qa, retrieval_scores
from rag.ingest import article_files, load_article
from rag.query import analyze
from rag.retrieval import BM25
from rag.text import fold, lexical_tokens, syllables


def pyvi_words(text: str) -> list[str]:
    from pyvi import ViTokenizer

    return [fold(w) for w in ViTokenizer.tokenize(text).split() if any(c.isalnum() for c in w)]


def underthesea_words(text: str) -> list[str]:
    from underthesea import word_tokenize

    return [fold(w).replace(" ", "_") for w in word_tokenize(text) if any(c.isalnum() for c in w)]


TOKENIZERS = {
    "syllables": syllables,
    "syllables+bigrams": lexical_tokens,
    "pyvi words": pyvi_words,
    "underthesea words": underthesea_words,
}


def main(paths: list[str]) -> None:
    chunks = [c for p in article_files(Path("data/articles")) for c in chunk_article(load_article(p))]
    items = [i for p in paths for i in load_qa(Path(p)) if i.answerable]
    print(f"{len(items)} answerable questions, {len(chunks)} chunks")
    print(f"{'tokens':<20} {'R@1':>6} {'R@5':>6} {'MRR@10':>7} {'tokenise s':>11}")
    for name, tokenize in TOKENIZERS.items():
        started = time.perf_counter()
        bm25 = BM25([tokenize(f"{c.title}\n{c.text}") for c in chunks])
        seconds = time.perf_counter() - started
        scores = []
        for item in items:
            query = analyze(item.question)
            text = " ".join([query.text, *(p for c in query.concepts for p in c.phrases)])
            ranked = [chunks[i].article_id for i in bm25.scores(tokenize(text)).argsort()[::-1]]
            scores.append(retrieval_scores(item.expected_sources, ranked))
        mean = {k: sum(s[k] for s in scores) / len(scores) for k in ("recall@1", "recall@5", "mrr@10")}
        print(f"{name:<20} {mean['recall@1']:>6.3f} {mean['recall@5']:>6.3f} {mean['mrr@10']:>7.3f} {seconds:>11.2f}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["eval/qa_dev.jsonl", "eval/qa_test.jsonl"])
