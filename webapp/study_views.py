"""Rating study pages: the owner's (create, watch, close, results, exports) and the rater's (blind voting).

Raters join through the study's shared link (a browser that joins again resumes its first rater,
known by a long-lived cookie) or through personal links the owner issues; the owner chooses per
study. A rater's pages carry only the instruction, its input and the two answers as "Response 1" and
"Response 2"; the vote is sent as a screen position (1, 2, tie) and mapped to a system server side.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from evaluation.annotations import parse_annotations
from evaluation.outputs import parse_model_outputs
from records.files import decode_utf8
from webapp import results, study_files, urls  # noqa: F401 - urls registers the `num` path type
from webapp.security import read_form
from webapp.studies import CHOICES, JOINING, MAX_COMMENT, MAX_NAME, is_swapped

MAX_FILE = 12 * 1024 * 1024
BROWSER_COOKIE = "si_rater_browser"
BROWSER_COOKIE_AGE_S = 365 * 24 * 3600


def browser_cookie(request) -> tuple[str, bool]:
    """This browser's rater cookie, and whether it is new (made now, to be set on the response)."""
    value = request.cookies.get(BROWSER_COOKIE, "")
    if re.fullmatch(r"[0-9a-f]{32}", value):
        return value, False
    return secrets.token_hex(16), True


def browser_digest(value: str) -> str:
    """What the database keeps of a browser cookie: a digest, so the file holds no live cookie."""
    return hashlib.sha256(value.encode()).hexdigest()


def keep_browser_cookie(response, value: str, new: bool):
    if new:  # Lax: sent when a rater opens the link from a mail or chat message (Strict would not be)
        response.set_cookie(BROWSER_COOKIE, value, max_age=BROWSER_COOKIE_AGE_S, path="/rate", httponly=True,
                            samesite="lax")
    return response


def next_item_url(studies, study, rater_id: str, after: int = 0) -> str:
    """The rater's first unvoted item after `after` (wrapping round), or their done page."""
    total = studies.count_items(study.id)
    voted = {v["item"] for v in studies.votes(study.id, rater_id)}
    following = [k for k in range(after + 1, total + 1) if k not in voted] or \
                [k for k in range(1, total + 1) if k not in voted]
    return f"/rate/{study.key}/{rater_id}/{following[0] if following else 'done'}"


def routes(app) -> list[Route]:
    studies = app.studies

    def owner_only(request):
        if request.state.role != "owner":
            raise HTTPException(403, "forbidden: this page is for the study's owner")

    def study_of(request):
        owner_only(request)
        study = studies.get(request.path_params["sid"])
        if study is None:
            raise HTTPException(404, "no such study")
        return study

    async def list_page(request):
        owner_only(request)
        rows = [{"s": s, "items": studies.count_items(s.id), "raters": len(studies.raters(s.id)),
                 "votes": len(studies.votes(s.id))} for s in studies.all()]
        return app.page(request, "studies.html", studies=rows)

    async def read_upload(form, field):
        upload = form.get(field)
        if upload is None or isinstance(upload, str):
            raise HTTPException(400, f"choose a file for {field}")
        data = await upload.read(MAX_FILE + 1)
        if len(data) > MAX_FILE:
            raise HTTPException(413, f"{field}: file over {MAX_FILE:,} bytes")
        label = f"{field} ({upload.filename})"
        return decode_utf8(data, label), label

    def joining_of(form) -> str:
        joining = str(form.get("joining") or "shared")
        if joining not in JOINING:
            raise HTTPException(400, f"raters join through one of: {', '.join(JOINING)}")
        return joining

    async def create(request):
        owner_only(request)
        form = await read_form(request)
        name = str(form.get("name") or "").strip() or "study"
        joining = joining_of(form)
        if "judged" in form:  # the pairs an LLM judge saw: the study rates the same ones, the judge attached
            rows = parse_annotations(*await read_upload(form, "judged"))
            study = studies.create(name, study_files.generator((r.get("generator_1") for r in rows), "system 1"),
                                   study_files.generator((r.get("generator_2") for r in rows), "system 2"),
                                   study_files.pairs_from_annotations(rows), joining=joining)
            studies.attach_judge(study.id, study_files.judge_rows(rows))
            return RedirectResponse(f"/studies/{study.id}", status_code=303)
        answers = [parse_model_outputs(*await read_upload(form, field), default_generator=fallback)
                   for field, fallback in (("answers_1", "system 1"), ("answers_2", "system 2"))]
        items, unpaired = study_files.items_from_answers(*answers)
        if not items:
            raise HTTPException(400, "the two files share no instruction: nothing to rate")
        study = studies.create(name, answers[0].generator, answers[1].generator, items, joining=joining)
        return RedirectResponse(f"/studies/{study.id}?unpaired={unpaired}", status_code=303)

    async def study_page(request):
        study = study_of(request)
        votes = studies.votes(study.id)
        raters = [{**r, "votes": sum(v["rater_id"] == r["id"] for v in votes),
                   "link": (str(request.url_for("rate_start", key=study.key)) + f"/{r['id']}/1") if r["issued"] else ""}
                  for r in studies.raters(study.id)]
        link = str(request.url_for("rate_start", key=study.key))
        unpaired = request.query_params.get("unpaired", "")
        return app.page(request, "study.html", study=study, items=studies.count_items(study.id), raters=raters,
                        votes=len(votes), link=link, unpaired=unpaired if unpaired.isdigit() else "")

    async def close(request):
        study = study_of(request)
        await read_form(request)
        studies.close(study.id)
        return RedirectResponse(f"/studies/{study.id}/results", status_code=303)

    async def issue_link(request):
        study = study_of(request)
        form = await read_form(request)
        name = str(form.get("name") or "").strip()
        if not name:
            raise HTTPException(400, "name the rater the link is for")
        studies.add_rater(study.id, name[:MAX_NAME], issued=True)
        return RedirectResponse(f"/studies/{study.id}#raters", status_code=303)

    async def set_joining(request):
        study = study_of(request)
        studies.set_joining(study.id, joining_of(await read_form(request)))
        return RedirectResponse(f"/studies/{study.id}#raters", status_code=303)

    async def attach_judge(request):
        study = study_of(request)
        form = await read_form(request)
        rows = parse_annotations(*await read_upload(form, "annotations"))
        studies.attach_judge(study.id, study_files.judge_rows(rows))
        return RedirectResponse(f"/studies/{study.id}/results", status_code=303)

    async def results_page(request):
        study = study_of(request)
        return app.page(request, "results.html", study=study, r=_results(studies, study))

    async def results_json(request):
        study = study_of(request)
        return JSONResponse(_results(studies, study), headers={
            "content-disposition": f'attachment; filename="study-{study.id}-results.json"'})

    async def annotations_json(request):
        study = study_of(request)
        body = json.dumps(results.annotations(studies, study), ensure_ascii=False, indent=2)
        return Response(body, media_type="application/json", headers={
            "content-disposition": f'attachment; filename="study-{study.id}-annotations.json"'})

    # rater side ---------------------------------------------------------------------------------

    def open_study(request):
        study = studies.by_key(request.path_params["key"])
        if study is None:
            raise HTTPException(404, "no such study")
        return study

    def rater_of(request, study):
        rater = studies.rater(study.id, request.path_params["rater"])
        if rater is None:
            raise HTTPException(404, "unknown rater link: start again from the study link")
        return rater

    async def rate_start(request):
        study = open_study(request)
        cookie, new = browser_cookie(request)
        mine = studies.rater_of_browser(study.id, browser_digest(cookie)) if study.joining == "shared" else None
        page = app.page(request, "rate_join.html", key=study.key, items=studies.count_items(study.id),
                        closed=not study.is_open, owner=False, joining=study.joining, mine=mine,
                        resume=next_item_url(studies, study, mine["id"]) if mine else "")
        return keep_browser_cookie(page, cookie, new)

    async def rate_join(request):
        """A new rater, or, for a browser that already joined this study, the same rater resumed."""
        study = open_study(request)
        form = await read_form(request, max_files=0)
        if not study.is_open:
            raise HTTPException(409, "this study is closed")
        if study.joining != "shared":
            raise HTTPException(403, "this study takes raters through personal links only: ask its owner for yours")
        cookie, new = browser_cookie(request)
        mine = studies.rater_of_browser(study.id, browser_digest(cookie))
        if mine:
            studies.count_join(mine["id"])
            rater_id = mine["id"]
        else:
            name = str(form.get("name") or "").strip()
            if not name:
                raise HTTPException(400, "give a name so your votes can be told apart from others'")
            rater_id = studies.add_rater(study.id, name, browser=browser_digest(cookie))
        target = RedirectResponse(next_item_url(studies, study, rater_id), status_code=303)
        return keep_browser_cookie(target, cookie, new)

    async def rate_item(request):
        study = open_study(request)
        rater = rater_of(request, study)
        total = studies.count_items(study.id)
        n = request.path_params["item"]
        item = studies.item(study.id, n)
        if item is None:
            raise HTTPException(404, f"items run from 1 to {total}")
        mine = {v["item"]: v for v in studies.votes(study.id, rater["id"])}
        shown = [(item["output_1"], study.system_1), (item["output_2"], study.system_2)]
        if is_swapped(study, rater["id"], n):
            shown.reverse()
        # Once the owner closes the study, each response is labelled with the system that wrote it.
        return app.page(request, "rate_item.html", key=study.key, rater=rater, n=n, total=total, item=item,
                        responses=[text for text, _ in shown], vote=mine.get(n), done=len(mine),
                        closed=not study.is_open, authors=[s for _, s in shown] if not study.is_open else None,
                        owner=False)

    async def rate_vote(request):
        study = open_study(request)
        rater = rater_of(request, study)
        n = request.path_params["item"]
        if studies.item(study.id, n) is None:
            raise HTTPException(404, "no such item")
        form = await read_form(request, max_files=0)
        if not study.is_open:
            raise HTTPException(409, "this study is closed; votes are no longer taken")
        choice = str(form.get("choice") or "")
        if choice not in CHOICES:
            raise HTTPException(400, "vote 1, 2 or tie")
        studies.vote(study, rater["id"], n, choice, str(form.get("comment") or "")[:MAX_COMMENT])
        return RedirectResponse(next_item_url(studies, study, rater["id"], after=n), status_code=303)

    async def rate_done(request):
        study = open_study(request)
        rater = rater_of(request, study)
        return app.page(request, "rate_done.html", key=study.key, rater=rater, total=studies.count_items(study.id),
                        done=len(studies.votes(study.id, rater["id"])), owner=False)

    return [
        Route("/studies", list_page), Route("/studies", create, methods=["POST"]),
        Route("/studies/{sid:num}", study_page), Route("/studies/{sid:num}/close", close, methods=["POST"]),
        Route("/studies/{sid:num}/judge", attach_judge, methods=["POST"]),
        Route("/studies/{sid:num}/raters", issue_link, methods=["POST"]),
        Route("/studies/{sid:num}/joining", set_joining, methods=["POST"]),
        Route("/studies/{sid:num}/results", results_page), Route("/studies/{sid:num}/results.json", results_json),
        Route("/studies/{sid:num}/annotations.json", annotations_json),
        Route("/rate/{key}", rate_start, name="rate_start"), Route("/rate/{key}/join", rate_join, methods=["POST"]),
        Route("/rate/{key}/{rater}/done", rate_done),
        Route("/rate/{key}/{rater}/{item:num}", rate_item),
        Route("/rate/{key}/{rater}/{item:num}", rate_vote, methods=["POST"]),
    ]


def _results(studies, study) -> dict:
    try:
        return results.results(studies, study)
    except ImportError as e:  # the statistics live in the evaluation package
        return {"error": f"statistics unavailable: {e}", "votes": len(studies.votes(study.id))}
