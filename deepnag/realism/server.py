"""The study's web app (Flask): the participants' page and API, and the token-protected results.

Participants: `/` (plain HTML and JavaScript from this package's `static/`), `POST /api/sessions` (a new random
session and its trials), `GET /api/sessions/<id>` (where it stands), `GET /api/sessions/<id>/trials/<i>` (a
trial's sample, never whether it is real), `POST /api/sessions/<id>/answers` ({"trial", "answer", "ms"}; practice
trials answer with the truth). Results, with `?token=`: `/results`, `/results/answers.csv`,
`/results/summary.json`, `/results/summary.png`. Every refused request is a 4xx JSON {"error": one line}.
"""

from __future__ import annotations

import html
import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from flask import Flask, Response, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException

from deepnag.realism import results, trials
from deepnag.realism.store import RequestError, Store

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
MAX_BODY = 4096
"""Bytes an answer's body may have."""


@dataclass
class Study:
    """What the app serves: the samples, the stored sessions, the plan's settings and the results' token."""

    pool: trials.Pool
    store: Store
    trials: int
    practice: int
    token: str
    seed: int = 0

    def new_plan(self) -> list[dict[str, Any]]:
        return trials.plan(self.pool, self.trials, self.practice, np.random.default_rng(secrets.randbits(64)))

    def results(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        answers = self.store.answers()
        return results.summary(answers, self.pool.arms, self.pool.class_names, self.seed), answers

    def write_files(self) -> dict[str, Path]:
        """answers.csv, summary.json and summary.png beside the database, from every answer stored so far."""
        return results.write(self.store.path.parent, self.store.answers(), self.pool.arms, self.pool.class_names)


def _error(status: int, reason: str) -> tuple[Response, int]:
    return jsonify(error=reason), status


def _progress(study: Study, session: str) -> dict[str, Any]:
    plan = study.store.plan(session)
    done = study.store.next_trial(session)
    return {"session": session, "total": len(plan), "practice": sum(t["practice"] for t in plan), "next": done,
            "done": done >= len(plan)}


def _check_token() -> None:
    if not secrets.compare_digest(str(request.args.get("token", "")), _app_study().token):
        raise RequestError(403, "the results need the token printed when the study started (?token=...)")


def _app_study() -> Study:
    from flask import current_app

    return current_app.config["STUDY"]


def _participant_routes(app: Flask) -> None:
    @app.get("/")
    def index() -> Response:
        return send_from_directory(STATIC, "index.html")

    @app.post("/api/sessions")
    def new_session() -> tuple[Response, int]:
        study = _app_study()
        return jsonify(_progress(study, study.store.new_session(study.new_plan()))), 201

    @app.get("/api/sessions/<session>")
    def session_state(session: str) -> Response:
        return jsonify(_progress(_app_study(), session))

    @app.get("/api/sessions/<session>/trials/<trial>")
    def trial_sample(session: str, trial: str) -> Response:
        study = _app_study()
        chosen = study.store.trial(session, trial)
        sample = study.pool.sample(chosen["arm"], chosen["truth"], chosen["index"])
        return jsonify(trial=int(trial), practice=chosen["practice"], sample=trials.sample_json(study.pool, sample))

    @app.post("/api/sessions/<session>/answers")
    def answer(session: str) -> tuple[Response, int]:
        study = _app_study()
        study.store.plan(session)  # an unknown session first: 404 whatever the body
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise RequestError(413, f"the body is over {MAX_BODY} bytes")
        try:
            body = json.loads(request.get_data(cache=False, as_text=True) or "null")
        except ValueError:
            raise RequestError(400, "the body is not valid JSON") from None
        row = study.store.answer(session, body)
        reply = _progress(study, session)
        if row["practice"]:
            reply["feedback"] = {"truth": row["truth"], "correct": bool(row["correct"])}
        return jsonify(reply), 201


def _results_routes(app: Flask) -> None:
    @app.get("/results")
    def results_page() -> Response:
        _check_token()
        study = _app_study()
        summary, _ = study.results()
        study.write_files()
        return Response(results_html(summary, request.args["token"]), mimetype="text/html")

    @app.get("/results/answers.csv")
    def answers_csv() -> Response:
        _check_token()
        study = _app_study()
        return Response(results.answers_csv(study.store.answers(), study.pool.arms, study.pool.class_names),
                        mimetype="text/csv")

    @app.get("/results/summary.json")
    def summary_json() -> Response:
        _check_token()
        return jsonify(_app_study().results()[0])

    @app.get("/results/summary.png")
    def summary_png() -> Response:
        _check_token()
        return Response(results.figure_png(_app_study().results()[0]), mimetype="image/png")


def create_app(study: Study) -> Flask:
    """The Flask app serving `study`."""
    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.config["STUDY"] = study
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY

    @app.errorhandler(RequestError)
    def refused(error: RequestError) -> tuple[Response, int]:
        return _error(error.status, str(error))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        return _error(error.code or 500, f"{error.name.lower()}: {request.method} {request.path}")

    _participant_routes(app)
    _results_routes(app)
    return app


def _cell(value: dict[str, Any]) -> str:
    if value["error"] is None:
        return "–"
    ci = value["ci95"]
    return f"{value['error']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}] (n={value['answers']})"


def results_html(summary: dict[str, Any], token: str) -> str:
    """The results page: HYPE∞ and the generated-only error per generator, per class below, links to the files."""
    rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{_cell(g['hype_infinity'])}</td>"
                   f"<td>{_cell(g['generated_error'])}</td><td>{_cell(g['real_error'])}</td></tr>"
                   for name, g in summary["generators"].items())
    classes = "".join(f"<tr><td>{html.escape(name)}</td><td>{html.escape(c)}</td><td>{_cell(v)}</td></tr>"
                      for name, g in summary["generators"].items()
                      for c, v in g["generated_error_per_class"].items())
    query = f"?token={html.escape(token)}"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Realism study: results</title>"
            f"<link rel='stylesheet' href='/static/study.css'></head><body class='results'><main>"
            f"<h1>HYPE∞ realism study</h1><p>{summary['participants']} participant(s), {summary['scored_answers']} "
            f"scored answers. Error rates with 95% bootstrap intervals over participants; 0.5 is chance.</p>"
            f"<table id='summary'><tr><th>generator</th><th>HYPE∞</th><th>generated judged real</th>"
            f"<th>real judged generated</th></tr>{rows}</table><p><img src='/results/summary.png{query}' "
            f"alt='HYPE∞ per generator'></p><h2>Generated samples judged real, per class</h2><table id='classes'>"
            f"<tr><th>generator</th><th>class</th><th>error</th></tr>{classes}</table>"
            f"<p><a href='/results/answers.csv{query}'>answers.csv</a> · "
            f"<a href='/results/summary.json{query}'>summary.json</a></p></main></body></html>")
