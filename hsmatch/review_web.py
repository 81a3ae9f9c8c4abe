"""The review web page: a local queue of flags, a detail page per flag with its evidence,
and decision forms, served by the standard library (``http.server``) from a
:class:`~hsmatch.review.ReviewStore`.

- ``GET /``: the queue, filtered by ``state``, ``district``, ``flag_type``, ``status``,
  ``list`` and ``q`` (GET parameters), with counts per status and per flag type, 50 a page.
- ``GET /flag/<id>``: one flag: the finding, the listed product, the classifier's kind,
  codes, confidence and candidates, the district's top exports, and the decision history.
- ``POST /flag/<id>/decide``: accept, reject, correct (kind and codes), note or reopen; then
  on to the next open flag of the same filter.

Keys: ``a`` accept, ``r`` reject, ``c`` the code field (Enter saves the correction),
``n`` the note (Ctrl+Enter saves it), ``j``/``k`` next/previous flag, ``q`` the queue,
``/`` search. Buttons and fields carry the same access keys.

Safety: bound to 127.0.0.1 by default, with no login: anyone who can reach the port can
decide. Requests must name this server in ``Host`` (DNS rebinding), every POST carries a
token that is an HMAC (per-server secret) of a random per-browser cookie (``SameSite=Strict``,
``HttpOnly``) and is refused with 403 otherwise, and a POST from another ``Origin`` is
refused. Every string is HTML-escaped; the Content-Security-Policy allows only this
response's own inline script and style (a fresh nonce each time), no frames, and forms
posting back to this server only.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import secrets
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from html import escape
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from hsmatch.errors import CodeError, HsmatchError, InputError
from hsmatch.flags import FLAG_TYPES
from hsmatch.review import FILTERS, KINDS, STATUSES, ReviewStore

log = logging.getLogger(__name__)

PAGE_SIZE = 50
CSRF_COOKIE = "hsmatch_csrf"
REVIEWER_COOKIE = "hsmatch_reviewer"
MAX_BODY = 64 * 1024
_ID = r"([A-Za-z0-9_-]{1,64})"
_FLAG_PATH = re.compile(rf"^/flag/{_ID}$")
_DECIDE_PATH = re.compile(rf"^/flag/{_ID}/decide$")
_COOKIE_VALUE = re.compile(r"^[0-9a-f]{64}$")
_ANY_HOST = ("", "0.0.0.0", "::")


class ReviewServer(ThreadingHTTPServer):
    """The review page's HTTP server. ``port=0`` picks a free port (see :attr:`url`)."""

    daemon_threads = True

    def __init__(self, store: ReviewStore, host: str = "127.0.0.1", port: int = 8765, *,
                 page_size: int = PAGE_SIZE) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            super().__init__((host, port), _Handler)
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
                             "choose another --port or --host") from exc
        self.store = store
        self.page_size = page_size
        self.secret = secrets.token_bytes(32)
        self.host = host
        self.port = int(self.server_address[1])
        if host in _ANY_HOST:
            log.warning("the review page listens on every interface (%r) with no login: anyone "
                        "who can reach port %d can record decisions", host, self.port)

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in _ANY_HOST else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}/"

    def csrf_token(self, cookie: str) -> str:
        return hmac.new(self.secret, cookie.encode(), "sha256").hexdigest()

    def host_allowed(self, header: str | None) -> bool:
        """Only requests addressed to this server by name (DNS rebinding defence)."""
        if self.host in _ANY_HOST:
            return True
        names = {"127.0.0.1", "localhost", "[::1]",
                 f"[{self.host}]" if ":" in self.host else self.host}
        return (header or "").lower() in {f"{n}:{self.port}" for n in names}


@contextmanager
def running(store: ReviewStore, host: str = "127.0.0.1", port: int = 0,
            **options: Any) -> Iterator[ReviewServer]:
    """The server running in a background thread for the ``with`` block (tests, benchmarks)."""
    server = ReviewServer(store, host, port, **options)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="hsmatch-review", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def serve(store: ReviewStore, host: str = "127.0.0.1", port: int = 8765,
          *, ready: Any = None) -> None:
    """Serve until interrupted; ``ready(server)`` is called once it listens."""
    server = ReviewServer(store, host, port)
    if ready is not None:
        ready(server)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


# -- the request handler ----------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: ReviewServer
    def version_string(self) -> str:
        return "hsmatch-review"

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    # -- plumbing -------------------------------------------------------------------------

    def _send(self, status: int, body: str, *, nonce: str = "", cookies: list[str] | None = None,
              location: str | None = None) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        own = f"'nonce-{nonce}'" if nonce else "'none'"
        self.send_header("Content-Security-Policy",
                         f"default-src 'none'; script-src {own}; style-src {own}; "
                         "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        for cookie in cookies or []:
            self.send_header("Set-Cookie", cookie)
        if location:
            self.send_header("Location", location)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        nonce = secrets.token_urlsafe(16)
        body = (f"<h1>{int(status)} {escape(HTTPStatus(status).phrase)}</h1>"
                f"<p class='error'>{escape(message)}</p><p><a href='/'>Back to the queue</a></p>")
        self._send(status, _layout(HTTPStatus(status).phrase, body, nonce), nonce=nonce)

    def _cookies(self) -> dict[str, str]:
        try:
            jar = SimpleCookie(self.headers.get("Cookie") or "")
        except CookieError:
            return {}
        return {k: m.value for k, m in jar.items()}

    def _browser(self) -> tuple[str, list[str]]:
        """This browser's CSRF cookie value, and the Set-Cookie header to give it one."""
        value = self._cookies().get(CSRF_COOKIE, "")
        if _COOKIE_VALUE.match(value):
            return value, []
        value = secrets.token_hex(32)
        return value, [f"{CSRF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict"]

    def _reviewer(self) -> str:
        return unquote(self._cookies().get(REVIEWER_COOKIE, ""))[:100]

    def _handle(self, method: Any) -> None:
        if not self.server.host_allowed(self.headers.get("Host")):
            self._error(400, "this page answers only at its own address (127.0.0.1 or localhost "
                             f"with port {self.server.port})")
            return
        try:
            method()
        except InputError as exc:
            self._error(400, str(exc))
        except HsmatchError as exc:
            log.error("review page: %s", exc)
            self._error(500, str(exc))
        except Exception:
            log.exception("review page: %s %s failed", self.command, self.path)
            self._error(500, "the server failed on this request; the log has the details")

    def do_GET(self) -> None:
        self._handle(self._get)

    def do_HEAD(self) -> None:
        self._handle(self._get)

    def do_POST(self) -> None:
        self._handle(self._post)

    # -- pages ----------------------------------------------------------------------------

    def _get(self) -> None:
        url = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        filters = _filters(params)
        if url.path == "/":
            self._queue(filters, params)
            return
        match = _FLAG_PATH.match(url.path)
        if match:
            self._detail(match.group(1), filters, done=params.get("done", ""))
            return
        self._error(404, f"no page at {url.path}")

    def _queue(self, filters: dict[str, str], params: Mapping[str, str]) -> None:
        try:
            page = max(1, int(params.get("page") or 1))
        except ValueError:
            page = 1
        nonce = secrets.token_urlsafe(16)
        _, cookies = self._browser()
        body = queue_page(self.server.store, filters, page, self.server.page_size,
                          done=params.get("done", ""))
        self._send(200, _layout("Review queue", body, nonce, script=_QUEUE_SCRIPT), nonce=nonce,
                   cookies=cookies)

    def _detail(self, flag_id: str, filters: dict[str, str], *, done: str = "",
                error: str = "", form: Mapping[str, str] | None = None, status: int = 200,
                cookies: list[str] | None = None) -> None:
        store = self.server.store
        flag = store.flag(flag_id)
        if flag is None:
            self._error(404, f"no flag {flag_id} in this review store")
            return
        browser, new_cookie = self._browser()
        nonce = secrets.token_urlsafe(16)
        body = detail_page(store, flag, filters, token=self.server.csrf_token(browser),
                           reviewer=self._reviewer(), done=done, error=error, form=form)
        self._send(status, _layout(f"Flag {flag_id}", body, nonce, script=_DETAIL_SCRIPT),
                   nonce=nonce, cookies=(cookies or []) + new_cookie)

    def _post(self) -> None:
        url = urlsplit(self.path)
        match = _DECIDE_PATH.match(url.path)
        if not match:
            self._error(404, f"nothing to post to at {url.path}")
            return
        flag_id = match.group(1)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._error(413, f"the form is larger than {MAX_BODY // 1024} KB")
            return
        try:
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode("utf-8"),
                                                  keep_blank_values=True).items()}
        except UnicodeDecodeError:
            self._error(400, "the form is not UTF-8")
            return
        origin = self.headers.get("Origin")
        if origin and origin != "null" and not self.server.host_allowed(urlsplit(origin).netloc):
            self._error(403, "this form was posted from another site; decisions are taken only "
                             "from this review page")
            return
        browser = self._cookies().get(CSRF_COOKIE, "")
        token = form.get("csrf", "")
        if not (_COOKIE_VALUE.match(browser) and token
                and hmac.compare_digest(self.server.csrf_token(browser), token)):
            self._error(403, "this form has expired or did not come from this review page (was "
                             "the server restarted?); reload the flag and decide again")
            return
        filters = _filters({k: v[0] for k, v in parse_qs(form.get("back", "")).items()})
        store = self.server.store
        if store.flag(flag_id) is None:
            self._error(404, f"no flag {flag_id} in this review store")
            return
        action = form.get("action", "")
        reviewer = " ".join(form.get("reviewer", "").split())
        cookies = [f"{REVIEWER_COOKIE}={quote(reviewer, safe='')}; Path=/; HttpOnly; "
                   "SameSite=Strict; Max-Age=31536000"] if reviewer else []
        codes = form.get("codes", "").strip()
        try:
            if action != "correct" and codes:
                raise InputError("you typed codes: press 'Save correction' to correct the "
                                 "product, or clear the codes field")
            store.decide(flag_id, action, reviewer, note=form.get("note", ""), source="web",
                         kind=form.get("kind") if action == "correct" else None,
                         codes=codes if action == "correct" else None)
        except (InputError, CodeError) as exc:
            self._detail(flag_id, filters, error=str(exc), form=form, status=400, cookies=cookies)
            return
        following = store.next_open(flag_id, **filters)
        query = _qs(filters, done=flag_id)
        location = f"/flag/{quote(following)}?{query}" if following else f"/?{query}"
        self._send(303, "", cookies=cookies, location=location)


def _filters(params: Mapping[str, str]) -> dict[str, str]:
    return {k: str(params[k]).strip() for k in FILTERS if str(params.get(k) or "").strip()}


def _qs(filters: Mapping[str, str], **extra: Any) -> str:
    return urlencode({**{k: v for k, v in filters.items() if v},
                      **{k: v for k, v in extra.items() if v not in (None, "")}})


# -- HTML -------------------------------------------------------------------------------------


def _e(value: Any) -> str:
    """Escaped text of any value ('' for None)."""
    return "" if value is None else escape(str(value), quote=True)


STYLE = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#263238;color:#fff;padding:8px 20px;display:flex;gap:18px;align-items:baseline}
header a{color:#fff;font-weight:600;text-decoration:none}header .meta{color:#cfd8dc;font-size:12px}
main{padding:12px 20px;max-width:1400px}
h1{font-size:20px;margin:8px 0}h2{font-size:16px;margin:18px 0 6px}
table{border-collapse:collapse;background:#fff;width:100%}
td,th{border:1px solid #e0e0e0;padding:4px 7px;text-align:left;vertical-align:top}
th{background:#f1f3f4;font-weight:600}
table.queue tr:hover td,table.queue tr.sel td{background:#e3f2fd}
.facts{width:auto}.facts th{width:150px}
.chips{margin:6px 0;display:flex;flex-wrap:wrap;gap:6px;align-items:center}
.chip{border:1px solid #b0bec5;border-radius:12px;padding:1px 9px;text-decoration:none;color:#263238;
background:#fff;font-size:13px}.chip.on{background:#263238;color:#fff;border-color:#263238}
.chip b{font-weight:600}
.badge{display:inline-block;border-radius:3px;padding:0 6px;color:#fff;font-size:12px;white-space:nowrap}
.s-open{background:#1565c0}.s-accepted{background:#2e7d32}.s-rejected{background:#6d4c41}
.s-corrected{background:#6a1b9a}.s-resolved{background:#9e9e9e}
.type{font-family:ui-monospace,monospace;font-size:12px}.id{font-family:ui-monospace,monospace}
form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end;background:#fff;padding:8px;
border:1px solid #e0e0e0}form.filters label{display:flex;flex-direction:column;font-size:12px;color:#555}
select,input,textarea,button{font:inherit}form.filters select{max-width:15em}
.nowrap{white-space:nowrap}
.pager{margin:8px 0;display:flex;gap:12px;align-items:center}
.flash{background:#e8f5e9;border:1px solid #a5d6a7;padding:6px 10px;margin:8px 0}
.error{background:#ffebee;border:1px solid #ef9a9a;padding:6px 10px;margin:8px 0}
.grid{display:grid;grid-template-columns:minmax(0,1.2fr) minmax(0,1fr);gap:18px}
.panel{background:#fff;border:1px solid #e0e0e0;padding:10px 14px}
.decide label{display:block;margin:6px 0}.decide .row{display:flex;gap:8px;flex-wrap:wrap;align-items:center;margin:8px 0}
.decide button{padding:5px 14px;border:1px solid #90a4ae;border-radius:4px;background:#fff;cursor:pointer}
.decide button.accept{background:#2e7d32;color:#fff;border-color:#2e7d32}
.decide button.reject{background:#6d4c41;color:#fff;border-color:#6d4c41}
.decide button.correct{background:#6a1b9a;color:#fff;border-color:#6a1b9a}
.decide input[name=codes]{width:16em}.decide textarea{width:100%;height:4.5em}
kbd{border:1px solid #b0bec5;border-radius:3px;padding:0 4px;font-size:12px;background:#fff}
.keys{color:#555;font-size:12px;margin:6px 0}.muted{color:#777}meter{width:110px}
.nav{display:flex;gap:14px;align-items:center;margin:4px 0 8px}
"""


def _layout(title: str, body: str, nonce: str, *, script: str = "") -> str:
    scripts = f"<script nonce='{_e(nonce)}'>{script}</script>" if script else ""
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_e(title)} · hsmatch review</title>"
            f"<style nonce='{_e(nonce)}'>{STYLE}</style></head><body>"
            "<header><a href='/' accesskey='q'>hsmatch review</a>"
            "<span class='meta'>flags from district export lists, for reviewers</span></header>"
            f"<main>{body}</main>{scripts}</body></html>")


def _badge(status: str) -> str:
    return f"<span class='badge s-{_e(status)}'>{_e(status)}</span>"


def _short_list(name: str) -> str:
    return name.split(" (")[0]


def _usd(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    for unit, size in (("bn", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(number) >= size:
            return f"${number / size:,.1f} {unit}"
    return f"${number:,.0f}"


def _pct(value: Any) -> str:
    try:
        share = 100 * float(value)
    except (TypeError, ValueError):
        return ""
    return f"{share:.2f}%" if 0 < abs(share) < 1 else f"{share:.1f}%"


def _flash(store: ReviewStore, done: str) -> str:
    if not done:
        return ""
    history = store.history(done)
    if not history:
        return ""
    last = history[-1]
    flag = store.flag(done)
    status = flag["status"] if flag else ""
    what = {"note": "note saved on", "reopen": "reopened"}.get(last.action, f"{status}:")
    return (f"<p class='flash' role='status'>Saved — {_e(what)} <a class='id' href='/flag/"
            f"{quote(done)}'>{_e(done)}</a> by {_e(last.reviewer)}"
            + (f" ({_e(' '.join(last.codes))})" if last.codes else "") + ".</p>")


def queue_page(store: ReviewStore, filters: Mapping[str, str], page: int, page_size: int,
               *, done: str = "") -> str:
    """The queue's HTML (inside the layout)."""
    total = store.count(**filters)  # an unknown status or type: InputError, a 400 page
    counts = store.counts(**filters)
    facets = store.facets(filters.get("state"))
    pages = max(1, -(-total // page_size))
    page = min(page, pages)
    rows = store.queue(limit=page_size, offset=(page - 1) * page_size, **filters)
    runs = store.runs()
    parts = [_flash(store, done)]
    latest = (f"latest run imported {_e(runs[-1]['imported_at'][:16].replace('T', ' '))} UTC from "
              f"{_e(runs[-1]['source'])}" if runs else "no run imported yet")
    parts.append(f"<h1>Review queue</h1><p class='muted'>{_e(store.path.name)}: {latest}</p>")

    def select(name: str, label: str, options: list[tuple[str, str]]) -> str:
        chosen = filters.get(name, "")
        opts = "".join(f"<option value='{_e(v)}'{' selected' if v == chosen else ''}>{_e(t)}</option>"
                       for v, t in [("", "all"), *options])
        return f"<label>{_e(label)}<select name='{name}' id='f-{name}'>{opts}</select></label>"

    parts.append(
        "<form class='filters' method='get' action='/' id='filters'>"
        + select("status", "status", [(s, s) for s in STATUSES])
        + select("flag_type", "flag type", [(t, t) for t in FLAG_TYPES])
        + select("state", "state", [(s, s) for s in facets["state"]])
        + select("district", "district", [(d, d) for d in facets["district"]])
        + select("list", "list", [(x, _short_list(x)) for x in facets["list"]])
        + f"<label>search<input name='q' id='f-q' value='{_e(filters.get('q', ''))}' "
          "placeholder='product, district, code, id'></label>"
        "<button type='submit' id='apply'>Filter</button> <a href='/' id='clear'>clear</a></form>")

    def chips(column: str, label: str) -> str:
        chosen = filters.get(column, "")
        out = [f"<span class='muted'>{_e(label)}:</span>"]
        others = {k: v for k, v in filters.items() if k != column}
        out.append(f"<a class='chip{' on' if not chosen else ''}' href='/?{_e(_qs(others))}'>all "
                   f"<b>{sum(counts[column].values()):,}</b></a>")
        for name, n in counts[column].items():
            if n or name == chosen:
                out.append(f"<a class='chip{' on' if name == chosen else ''}' data-count='{n}' "
                           f"id='c-{column}-{_e(name)}' href='/?{_e(_qs({**others, column: name}))}'>"
                           f"{_e(name)} <b>{n:,}</b></a>")
        return "<div class='chips'>" + "".join(out) + "</div>"

    parts.append(chips("status", "status") + chips("flag_type", "type"))
    first = (page - 1) * page_size + 1 if total else 0
    last = min(total, page * page_size)
    nav = [f"<span id='showing'>{first:,}–{last:,} of {total:,} flags</span>"]
    if page > 1:
        nav.append(f"<a href='/?{_e(_qs(filters, page=page - 1))}' id='prev-page'>‹ previous page</a>")
    if page < pages:
        nav.append(f"<a href='/?{_e(_qs(filters, page=page + 1))}' id='next-page'>next page ›</a>")
    pager = "<div class='pager'>" + " ".join(nav) + f"<span class='muted'>page {page} of {pages}</span></div>"
    parts.append(pager)
    if not rows:
        hint = ("no flags match these filters; <a href='/'>clear them</a>" if total == 0 and filters
                else "no flags yet: import a run with <code>hsmatch review sync --flags "
                     "out/score/flags.csv</code>")
        parts.append(f"<p class='muted' id='empty'>{hint}</p>")
    else:
        query = _qs(filters)
        body = []
        for row in rows:
            about = row["product"] or row["code"]
            decided = (f"{_e(row['decision'])} by {_e(row['decided_by'])}<br><span class='muted'>"
                       f"{_e((row['decided_at'] or '')[:16].replace('T', ' '))}</span>"
                       if row["decision"] else "")
            body.append(
                f"<tr data-flag='{_e(row['flag_id'])}' data-status='{_e(row['status'])}'>"
                f"<td><a class='fl id' href='/flag/{quote(row['flag_id'])}?{_e(query)}'>"
                f"{_e(row['flag_id'])}</a></td><td class='type' title='{_e(FLAG_TYPES.get(row['flag_type'], ''))}'>"
                f"{_e(row['flag_type'])}</td><td>{_badge(row['status'])}</td>"
                f"<td>{_e(row['district'])}<br><span class='muted'>{_e(row['state'])}</span></td>"
                f"<td>{_e(_short_list(row['list']))}</td><td>{_e(about)}</td>"
                f"<td>{_e(row['message'])}</td><td>{decided}</td></tr>")
        parts.append("<table class='queue' id='queue'><thead><tr><th>flag</th><th>type</th>"
                     "<th>status</th><th>district</th><th>list</th><th>about</th><th>finding</th>"
                     "<th>decision</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>")
        parts.append(pager)
    parts.append("<p class='keys'><kbd>j</kbd>/<kbd>k</kbd> move, <kbd>Enter</kbd> open, "
                 "<kbd>/</kbd> search; on a flag: <kbd>a</kbd> accept, <kbd>r</kbd> reject, "
                 "<kbd>c</kbd> code, <kbd>n</kbd> note, <kbd>j</kbd>/<kbd>k</kbd> next/previous, "
                 "<kbd>q</kbd> queue</p>")
    return "".join(parts)


def detail_page(store: ReviewStore, flag: Mapping[str, Any], filters: Mapping[str, str], *,
                token: str, reviewer: str = "", done: str = "", error: str = "",
                form: Mapping[str, str] | None = None) -> str:
    """One flag's HTML (inside the layout): evidence, decision form, history."""
    flag_id = flag["flag_id"]
    evidence = dict(flag.get("evidence") or {})
    query = _qs(filters)
    prev_id, next_id = store.neighbours(flag_id, **filters)
    place = store.position(flag_id, **filters)
    total = store.count(**filters)
    nav = [f"<a href='/?{_e(query)}' id='back'>← queue</a>"]
    nav.append(f"<a href='/flag/{quote(prev_id)}?{_e(query)}' id='prev' rel='prev'>‹ previous "
               "<kbd>k</kbd></a>" if prev_id else "<span class='muted'>‹ previous</span>")
    nav.append(f"<a href='/flag/{quote(next_id)}?{_e(query)}' id='next' rel='next'>next <kbd>j</kbd>"
               " ›</a>" if next_id else "<span class='muted'>next ›</span>")
    nav.append(f"<span class='muted'>{place:,} of {total:,} in this filter</span>" if place
               else "<span class='muted'>not in the current filter</span>")
    if filters:
        nav.append("<span class='muted'>filter: " + _e(", ".join(f"{k} = {v}" for k, v in filters.items()))
                   + "</span>")
    parts = [_flash(store, done), "<div class='nav'>" + " ".join(nav) + "</div>"]
    parts.append(f"<h1><span class='type'>{_e(flag['flag_type'])}</span> {_badge(flag['status'])} "
                 f"<span class='id' id='flag-id'>{_e(flag_id)}</span></h1>"
                 f"<p id='message'>{_e(flag['message'])}</p>")
    if error:
        parts.append(f"<p class='error' role='alert' id='error'>{_e(error)}</p>")
    facts = [("type", f"{_e(flag['flag_type'])} <span class='muted'>— "
                      f"{_e(FLAG_TYPES.get(flag['flag_type'], ''))}</span>"),
             ("list", _e(flag["list"])), ("district", f"{_e(flag['district'])}, {_e(flag['state'])}")]
    if flag["product"]:
        facts.append(("listed product", f"<strong id='product'>{_e(flag['product'])}</strong>"))
    if flag["code"]:
        facts.append(("code", f"<span class='id'>{_e(flag['code'])}</span>"))
    standing = store.standing_correction(flag_id)
    if standing is not None:
        facts.append(("correction in force",
                      f"<span id='standing'>{_e(standing.kind)} <span class='id'>"
                      f"{_e(' '.join(standing.codes))}</span></span> <span class='muted'>by "
                      f"{_e(standing.reviewer)}; applies to '{_e(flag['product'])}' in every "
                      "district from the next run</span>"))
    seen = f"run {flag['first_seen_run']} – run {flag['last_seen_run']}"
    if not flag["present"]:
        seen += f"; no longer raised since {_e((flag['resolved_at'] or '')[:16].replace('T', ' '))} UTC"
    facts.append(("seen in", _e(seen)))
    left = ["<table class='facts'>" + "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in facts)
            + "</table>"]
    left.append(_classification_html(evidence))
    left.append(_finding_html(flag["flag_type"], evidence))
    left.append(_top_exports_html(evidence.pop("top_exports", None)))
    left.append(_other_evidence_html(evidence))
    right = [_decision_form(flag, query, token, reviewer, form or {}), _history_html(store, flag_id)]
    parts.append("<div class='grid'><div>" + "".join(left) + "</div><div>" + "".join(right)
                 + "</div></div>")
    return "".join(parts)


_SHOWN = {"kind", "codes", "confidence", "candidates", "classifier_reason", "data", "data_level",
          "level", "exports_usd", "share_of_district", "code", "label", "value_usd", "rca",
          "match_status", "reason", "error", "top_exports"}


def _classification_html(evidence: dict[str, Any]) -> str:
    if "kind" not in evidence and "candidates" not in evidence:
        return ""
    try:
        confidence = float(evidence.get("confidence", 0.0))
    except (TypeError, ValueError):
        confidence = 0.0
    codes = " ".join(str(c) for c in evidence.get("codes") or []) or "—"
    out = ["<h2>The classifier's answer</h2><table class='facts' id='classification'>",
           f"<tr><th>kind</th><td>{_e(evidence.get('kind', ''))}</td></tr>",
           f"<tr><th>codes used</th><td class='id'>{_e(codes)}</td></tr>",
           f"<tr><th>confidence</th><td><meter min='0' max='1' value='{confidence:.3f}'></meter> "
           f"<span id='confidence'>{confidence:.2f}</span></td></tr>",
           f"<tr><th>why</th><td>{_e(evidence.get('classifier_reason', ''))}</td></tr></table>"]
    candidates = evidence.get("candidates") or []
    if candidates:
        rows = "".join(f"<tr><td>{i}</td><td class='id'>{_e(c.get('code'))}</td>"
                       f"<td>{_e(c.get('description'))}</td><td>{_e(c.get('score'))}</td></tr>"
                       for i, c in enumerate(candidates, start=1) if isinstance(c, dict))
        out.append("<h2>Candidates</h2><table id='candidates'><thead><tr><th>#</th><th>code</th>"
                   f"<th>description</th><th>score</th></tr></thead><tbody>{rows}</tbody></table>")
    return "".join(out)


def _finding_html(flag_type: str, evidence: Mapping[str, Any]) -> str:
    rows: list[tuple[str, str]] = []
    if flag_type == "not_exported":
        rows = [("compared at", _e(evidence.get("level"))),
                ("exports under it", _e(_usd(evidence.get("exports_usd")))),
                ("share of the district", _e(_pct(evidence.get("share_of_district"))))]
    elif flag_type == "missing_top_export":
        rows = [("export", f"<span class='id'>{_e(evidence.get('code'))}</span> {_e(evidence.get('label'))}"),
                ("value", _e(_usd(evidence.get("value_usd")))),
                ("share of the district", _e(_pct(evidence.get("share_of_district")))),
                ("RCA", _e(evidence.get("rca")))]
    elif flag_type == "unmatched_district":
        rows = [("match", _e(evidence.get("match_status"))), ("reason", _e(evidence.get("reason")))]
    elif flag_type == "scoring_error":
        rows = [("error", _e(evidence.get("error")))]
    if "data" in evidence:
        rows.append(("export data", _e(f"{evidence.get('data')} ({evidence.get('data_level', '')})")))
    rows = [(k, v) for k, v in rows if v]
    if not rows:
        return ""
    return ("<h2>The finding</h2><table class='facts' id='finding'>"
            + "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows) + "</table>")


def _top_exports_html(top: Any) -> str:
    if not top:
        return "<h2>The district's top exports</h2><p class='muted'>none recorded</p>"
    rows = []
    for item in top:
        if not isinstance(item, dict):
            continue
        try:
            share = max(0.0, min(1.0, float(item.get("share", 0.0))))
        except (TypeError, ValueError):
            share = 0.0
        rows.append(f"<tr><td class='id'>{_e(item.get('code'))}</td><td>{_e(item.get('label'))}</td>"
                    f"<td class='nowrap'>{_e(_usd(item.get('value_usd')))}</td><td class='nowrap'><meter min='0' max='1' "
                    f"value='{share:.4f}'></meter> {_e(_pct(share))}</td></tr>")
    return ("<h2>The district's top exports</h2><table id='top-exports'><thead><tr><th>code</th>"
            "<th>export</th><th>value</th><th>share</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table>")


def _other_evidence_html(evidence: Mapping[str, Any]) -> str:
    rest = {k: v for k, v in evidence.items() if k not in _SHOWN}
    if not rest:
        return ""
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))}"
                   "</td></tr>" for k, v in sorted(rest.items()))
    return f"<h2>Other evidence</h2><table class='facts'>{rows}</table>"


def _decision_form(flag: Mapping[str, Any], query: str, token: str, reviewer: str,
                   form: Mapping[str, str]) -> str:
    flag_id = flag["flag_id"]
    evidence = flag.get("evidence") or {}
    chosen_kind = form.get("kind", "")
    kinds = "".join(f"<option value='{k}'{' selected' if k == chosen_kind else ''}>{k}</option>"
                    for k in KINDS)
    candidates = "".join(f"<option value='{_e(c.get('code'))}'>{_e(c.get('description'))}</option>"
                         for c in evidence.get("candidates") or [] if isinstance(c, dict))
    if flag["product"]:
        correction = (
            "<fieldset><legend>Correct the listed product</legend><div class='row'>"
            "<label>kind <select name='kind' id='kind'>"
            f"<option value=''{' selected' if not chosen_kind else ''}>from the codes</option>{kinds}"
            "</select></label><label>codes <input name='codes' id='codes' accesskey='c' "
            f"list='candidate-codes' autocomplete='off' placeholder='e.g. 10063020' "
            f"value='{_e(form.get('codes', ''))}'></label><datalist id='candidate-codes'>{candidates}"
            "</datalist><button type='submit' name='action' value='correct' id='correct' "
            "class='correct'>Save correction</button></div><div class='muted'>8-digit ITC-HS lines "
            "for goods, chapters or headings for a broad category, SAC codes (99…) for a service; "
            "kind 'unknown' with no code for a name that is not a product. The correction applies "
            "to this product name in every district in the next run.</div></fieldset>")
    else:
        correction = ("<p class='muted'>This flag is about the district, not a listed product: "
                      "there is no code to correct.</p>")
    return (
        f"<div class='panel decide'><h2>Decide</h2><form method='post' id='decide' "
        f"action='/flag/{quote(flag_id)}/decide'>"
        f"<input type='hidden' name='csrf' value='{_e(token)}'>"
        f"<input type='hidden' name='back' value='{_e(query)}'>"
        # The first submit button is the form's default: disabled, Enter in a field submits
        # nothing by accident (the script maps Enter in the code field to the correction).
        "<button type='submit' disabled hidden aria-hidden='true' tabindex='-1'></button>"
        "<label>Your name <input name='reviewer' id='reviewer' required maxlength='100' "
        f"autocomplete='name' value='{_e(form.get('reviewer', reviewer))}'></label>"
        "<div class='row'><button type='submit' name='action' value='accept' id='accept' "
        "class='accept' accesskey='a'><u>A</u>ccept</button><span class='muted'>the flag is right"
        "</span><button type='submit' name='action' value='reject' id='reject' class='reject' "
        "accesskey='r'><u>R</u>eject</button><span class='muted'>a false alarm</span></div>"
        f"{correction}"
        "<label><u>N</u>ote (kept with any decision) <textarea name='note' id='note' accesskey='n' "
        f"maxlength='4000'>{_e(form.get('note', ''))}</textarea></label>"
        "<div class='row'><button type='submit' name='action' value='note' id='save-note'>Save note "
        "only</button><button type='submit' name='action' value='reopen' id='reopen' "
        "title='back to open; withdraws a correction'>Reopen</button>"
        "</div></form><p class='keys'><kbd>a</kbd> accept · <kbd>r</kbd> reject · <kbd>c</kbd> code "
        "(<kbd>Enter</kbd> saves) · <kbd>n</kbd> note (<kbd>Ctrl</kbd>+<kbd>Enter</kbd> saves) · "
        "<kbd>j</kbd>/<kbd>k</kbd> next/previous · <kbd>q</kbd> queue</p></div>")


def _history_html(store: ReviewStore, flag_id: str) -> str:
    history = store.history(flag_id)
    if not history:
        return "<h2>History</h2><p class='muted' id='history'>no decisions yet</p>"
    rows = "".join(f"<tr><td>{_e(d.decided_at[:19].replace('T', ' '))}</td><td>{_e(d.reviewer)}</td>"
                   f"<td>{_e(d.action)}</td><td>{_e(d.kind)} <span class='id'>{_e(' '.join(d.codes))}"
                   f"</span></td><td>{_e(d.note)}</td><td class='muted'>{_e(d.source)}</td></tr>"
                   for d in reversed(history))
    return ("<h2>History</h2><table id='history'><thead><tr><th>when (UTC)</th><th>who</th>"
            "<th>decision</th><th>code</th><th>note</th><th>via</th></tr></thead><tbody>"
            f"{rows}</tbody></table>")


# Plain keys act unless the reader is typing in a field (Escape leaves the field).
_COMMON_SCRIPT = """
function typing(e){var t=e.target;return t&&(t.tagName==='INPUT'||t.tagName==='TEXTAREA'||t.tagName==='SELECT'||t.isContentEditable);}
function plain(e){return !(e.ctrlKey||e.metaKey||e.altKey);}
"""

_QUEUE_SCRIPT = _COMMON_SCRIPT + """
(function(){
var links=Array.prototype.slice.call(document.querySelectorAll('a.fl'));var at=-1;
function mark(i){if(!links.length)return;at=Math.max(0,Math.min(links.length-1,i));
links.forEach(function(l,j){l.closest('tr').classList.toggle('sel',j===at);});links[at].focus();}
document.querySelectorAll('#filters select').forEach(function(s){s.addEventListener('change',function(){
if(s.name==='state'){var d=document.getElementById('f-district');if(d)d.value='';}s.form.submit();});});
document.addEventListener('keydown',function(e){
if(typing(e)){if(e.key==='Escape')e.target.blur();return;}if(!plain(e))return;
if(e.key==='j'){mark(at+1);e.preventDefault();}
else if(e.key==='k'){mark(at-1);e.preventDefault();}
else if(e.key==='/'){document.getElementById('f-q').focus();e.preventDefault();}
});})();
"""

_DETAIL_SCRIPT = _COMMON_SCRIPT + """
(function(){
function go(id){var a=document.getElementById(id);if(a)window.location.href=a.href;}
function press(id){var b=document.getElementById(id);if(b)b.click();}
function focus(id){var f=document.getElementById(id);if(f){f.focus();if(f.select)f.select();}}
var codes=document.getElementById('codes');
if(codes)codes.addEventListener('keydown',function(e){if(e.key==='Enter'){e.preventDefault();press('correct');}});
var note=document.getElementById('note');
if(note)note.addEventListener('keydown',function(e){if(e.key==='Enter'&&(e.ctrlKey||e.metaKey)){e.preventDefault();press('save-note');}});
document.addEventListener('keydown',function(e){
if(typing(e)){if(e.key==='Escape')e.target.blur();return;}if(!plain(e))return;
var k=e.key;
if(k==='a')press('accept');else if(k==='r')press('reject');
else if(k==='c')focus('codes');else if(k==='n')focus('note');
else if(k==='j')go('next');else if(k==='k')go('prev');else if(k==='q')go('back');
else return;
e.preventDefault();});
})();
"""
