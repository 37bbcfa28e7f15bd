"""Registry pages: datasets, a version with its lineage graph, datasheet, records, drops, diffs.

Handlers are plain functions, so Starlette runs them in its thread pool: building a large
version's table or diff never stalls other requests.
"""

from __future__ import annotations

import json
from collections import Counter

from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, StreamingResponse
from starlette.routing import Route

from records.schema import RECORD_FIELDS
from registry.browse import list_summary, show
from registry.datasheet_layers import selection_line
from registry.diff import KINDS
from registry.evaluations import EVALUATION_COLUMNS, evaluation_rows, trained_models
from registry.versions import resolve
from webapp import datasheets, diffs, lineage, records, scores, urls  # noqa: F401 - urls registers `num`

DIFF_PAGE = 50


def routes(app) -> list[Route]:
    store = app.store

    def summary():
        """The registry's datasets, and a line per entry left out (shown in a banner)."""
        skipped: list[str] = []
        return list_summary(root=store, skipped=skipped), skipped

    def index(request):
        datasets, skipped = summary()
        return app.page(request, "index.html", datasets=datasets, skipped=skipped)

    def version_of(request):
        return resolve(request.path_params["ref"], root=store)  # validates the name; RegistryError -> 404

    def version_page(request):
        v = version_of(request)
        diffs.warm(v, store)
        records.warm(v, store)
        scores.warm(v, store)
        info = show(v.ref, root=store, sample=0, layers_of=lambda v, skipped: scores.summaries(v, store, skipped))
        models = evaluation_rows(trained_models(v, root=store))
        datasets, skipped = summary()
        layers = [{**s, "chart": scores.histogram_bars(s["histogram"])} for s in info["layers"]]
        return app.page(request, "version.html", v=info, graph=lineage.graph(v, store), layers=layers,
                        selection=selection_line(info["lineage"]),
                        models=models, model_columns=EVALUATION_COLUMNS,
                        has_run=records.run_dir(v) is not None, skipped=skipped + info["damaged_layers"],
                        others=[x["ref"] for d in datasets for x in d["versions"] if x["ref"] != v.ref])

    def datasheet(request):
        v = version_of(request)
        return HTMLResponse(datasheets.page(v, store))

    def records_page(request):
        v = version_of(request)
        query = records.Query.from_params(request.query_params)
        skipped: list[str] = []
        frame, names = scores.scored_table(v, store, scores.layers(v, store, skipped), skipped)
        if query.layer and query.layer not in names:
            raise HTTPException(400, f"{v.ref} has no score layer {query.layer!r}"
                                + (f" (it has {', '.join(names)})" if names else " (it has none)"))
        rows, total = records.select(frame, query)
        pages = max(1, -(-total // records.PAGE_SIZE))
        return app.page(request, "records.html", v=v, rows=rows.to_dicts(), total=total, query=query, pages=pages,
                        verbs=records.top_verbs(frame), page_size=records.PAGE_SIZE, layers=names, skipped=skipped)

    def record_page(request):
        v = version_of(request)
        skipped: list[str] = []
        manifests = scores.layers(v, store, skipped)
        frame, names = scores.scored_table(v, store, manifests, skipped)
        row = request.path_params["row"]
        if not 0 <= row < frame.height:
            raise HTTPException(404, f"{v.ref} has rows 0..{frame.height - 1}")
        record = frame.row(row, named=True)
        near = records.nearest(v).get(record["instruction"])
        layer_scores = scores.record_scores(record, manifests, names)
        shown = {*records.DERIVED, *RECORD_FIELDS, *(scores.score_column(n) for n in manifests),
                 *(scores.reason_column(n) for n in manifests)}
        extra = {k: val for k, val in record.items() if k not in shown}
        return app.page(request, "record.html", v=v, r=record, near=near, extra=extra, rows=frame.height,
                        scores=layer_scores, skipped=skipped)

    def drops_page(request):
        v = version_of(request)
        dropped = records.dropped(v)
        if dropped is None:
            raise HTTPException(404, f"{v.ref} records no generation run folder at hand (its drops are not kept)")
        reasons = Counter(str(d.get("drop_reason", "")) for d in dropped)
        rule = request.query_params.get("rule", "")
        rule = rule if rule in reasons else ""
        shown = [d for d in dropped if not rule or d.get("drop_reason") == rule]
        page = _page(request)
        return app.page(request, "drops.html", v=v, reasons=reasons.most_common(), rule=rule, total=len(shown),
                        rows=shown[(page - 1) * DIFF_PAGE: page * DIFF_PAGE], page=page,
                        pages=max(1, -(-len(shown) // DIFF_PAGE)))

    def diff_of(request):
        a, b = request.query_params.get("a", ""), request.query_params.get("b", "")
        if not a or not b:
            return None, None, None
        va, vb = resolve(a, root=store), resolve(b, root=store)
        return va, vb, diffs.comparison(va, vb, store)

    def diff_page(request):
        va, vb, comp = diff_of(request)
        datasets, skipped = summary()
        choices = [x["ref"] for d in datasets for x in d["versions"]]
        if comp is None:
            return app.page(request, "diff.html", comp=None, choices=choices, a="", b="", skipped=skipped)
        show_kind = request.query_params.get("show", "changed")
        show_kind = show_kind if show_kind in KINDS else "changed"
        rows = comp["rows"][show_kind]
        page = _page(request)
        shown = rows[(page - 1) * DIFF_PAGE: page * DIFF_PAGE]
        for r in shown:
            if r["kind"] == "changed":
                r["marked"] = {f: diffs.mark_words(r["before"][f], r["after"][f]) for f in r["fields"]}
        return app.page(request, "diff.html", comp=comp, s=comp["summary"], choices=choices, a=va.ref, b=vb.ref,
                        skipped=skipped,
                        show=show_kind, rows=shown, page=page, pages=max(1, -(-len(rows) // DIFF_PAGE)), kinds=KINDS)

    def diff_download(request):
        va, vb, comp = diff_of(request)
        if comp is None:
            raise HTTPException(400, "name two versions: ?a=NAME@N&b=NAME@M")
        kinds = [k for k in request.query_params.getlist("show") if k in KINDS] or list(KINDS)

        def lines():
            for k in kinds:
                for r in comp["rows"][k]:
                    yield json.dumps({key: val for key, val in r.items() if key != "marked"}, ensure_ascii=False,
                                     default=str) + "\n"
        name = f"diff-{va.name}-{va.number}-{vb.name}-{vb.number}.jsonl"
        return StreamingResponse(lines(), media_type="application/x-ndjson",
                                 headers={"content-disposition": f'attachment; filename="{name}"'})

    return [
        Route("/", index), Route("/v/{ref}", version_page), Route("/v/{ref}/datasheet", datasheet),
        Route("/v/{ref}/records", records_page), Route("/v/{ref}/records/{row:num}", record_page),
        Route("/v/{ref}/drops", drops_page), Route("/diff", diff_page), Route("/diff.jsonl", diff_download),
    ]


def _page(request) -> int:
    value = request.query_params.get("page", "1")
    return max(1, int(value)) if value.isdigit() else 1
