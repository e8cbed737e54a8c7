"""Concurrent users: the ChatBot shared by threads, and a bounded load test of the real web app.

The load test starts the Gradio server on 127.0.0.1 and runs 20 ``gradio_client`` sessions
at once, each asking 10 questions of the development set through ``/ask``. It checks that
no request fails and that every session gets, for each question, exactly the answer a
single user gets; it prints the latency percentiles and writes them to
``test-artifacts/load-test.json``.
"""

from __future__ import annotations

import json
import math
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from rag.bot import ChatBot

from .conftest import ROOT, served

SESSIONS = 20
PER_SESSION = 10
DISTINCT = 10  # questions in all; each session asks them all, starting at its own offset


def dev_questions(n: int = DISTINCT) -> list[str]:
    lines = (ROOT / "eval" / "qa_dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines[:n]]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def run_sessions(url: str, questions: list[str], sessions: int, per_session: int) -> dict:
    """``sessions`` clients at once, each asking ``per_session`` questions in turn; returns
    their answers, the latency of every request, and the errors."""
    from gradio_client import Client

    start = threading.Barrier(sessions)
    latencies: list[float] = []
    errors: list[str] = []
    answers: dict[int, list[tuple[str, dict]]] = {}

    def session(s: int) -> None:
        client = Client(url, verbose=False)
        mine = [questions[(s + i) % len(questions)] for i in range(per_session)]
        start.wait()
        got = []
        for question in mine:
            began = time.perf_counter()
            try:
                got.append((question, client.predict(question, api_name="/ask")))
            except Exception as err:  # any failure is counted, not raised, so all sessions finish
                errors.append(f"session {s}: {type(err).__name__}: {err}")
            latencies.append(time.perf_counter() - began)
        answers[s] = got

    began = time.perf_counter()
    with ThreadPoolExecutor(sessions) as pool:
        list(pool.map(session, range(sessions)))
    return {"answers": answers, "latencies": latencies, "errors": errors, "seconds": time.perf_counter() - began}


def test_the_chatbot_answers_threads_as_it_answers_one(bot: ChatBot) -> None:
    questions = dev_questions()
    expected = {q: bot.ask(q).to_json() for q in questions}

    def worker(offset: int) -> list[tuple[str, dict]]:
        order = questions[offset:] + questions[:offset]
        return [(q, bot.ask(q).to_json()) for q in order]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(worker, range(0, 10, 3)))
    assert sum(len(r) for r in results) == 4 * len(questions)
    for result in results:
        for question, answer in result:
            assert answer == expected[question], question


def test_twenty_concurrent_sessions_get_the_single_user_answers(bot: ChatBot, monkeypatch: pytest.MonkeyPatch) -> None:
    questions = dev_questions()
    in_flight, most = [0], [0]
    lock = threading.Lock()
    ask = bot.ask

    def counted(*args, **kwargs):
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        try:
            return ask(*args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(bot, "ask", counted)
    with served(bot) as url:
        single = run_sessions(url, questions, sessions=1, per_session=len(questions))
        assert single["errors"] == [] and most[0] == 1
        reference = dict(single["answers"][0])
        load = run_sessions(url, questions, sessions=SESSIONS, per_session=PER_SESSION)

    assert load["errors"] == []
    assert 1 < most[0] <= bot.settings.concurrency  # answered side by side, within RAG_CONCURRENCY
    assert len(load["latencies"]) == SESSIONS * PER_SESSION
    for s, got in load["answers"].items():
        assert len(got) == PER_SESSION
        for question, answer in got:
            assert answer == reference[question], f"session {s}: {question}"
    for question, answer in reference.items():  # and the single user gets what the library says
        assert answer == ask(question).to_json()

    ms = [t * 1000 for t in load["latencies"]]
    report = {
        "sessions": SESSIONS,
        "questions_per_session": PER_SESSION,
        "requests": len(ms),
        "errors": len(load["errors"]),
        "concurrency": bot.settings.concurrency,
        "most_in_flight": most[0],
        "seconds": round(load["seconds"], 2),
        "requests_per_second": round(len(ms) / load["seconds"], 2),
        "latency_ms": {"p50": round(percentile(ms, 50)), "p95": round(percentile(ms, 95)),
                       "max": round(max(ms)), "mean": round(statistics.fmean(ms))},
        "single_user_latency_ms": {"p50": round(percentile([t * 1000 for t in single["latencies"]], 50)),
                                   "p95": round(percentile([t * 1000 for t in single["latencies"]], 95))},
    }
    out = ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "load-test.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nload test: {SESSIONS} sessions x {PER_SESSION} questions, {report['seconds']} s, "
          f"{report['requests_per_second']} requests/s; latency p50 {report['latency_ms']['p50']} ms, "
          f"p95 {report['latency_ms']['p95']} ms, max {report['latency_ms']['max']} ms "
          f"(one user alone: p50 {report['single_user_latency_ms']['p50']} ms)")


@pytest.mark.parametrize(("values", "q", "expected"),
                         [([1.0, 2.0, 3.0, 4.0], 50, 2.0), (list(range(100, 0, -1)), 95, 95), ([7.0], 95, 7.0)])
def test_percentile(values, q, expected) -> None:
    assert percentile(values, q) == expected


def test_dev_questions_are_distinct() -> None:
    assert len(set(dev_questions())) == DISTINCT  # so that sessions, at different offsets, ask different ones
