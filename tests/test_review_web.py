"""The review web page over HTTP (no browser): pages, escaping, security headers, the
CSRF check, validation errors and concurrent reviewers. The browser tests are in
test_review_browser.py."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from hsmatch.flags import FLAG_COLUMNS, Flag
from hsmatch.review import ReviewStore
from hsmatch.review_web import running
from tests.review_data import flag_id_of


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """A tiny browser: keeps its cookies, never follows redirects."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(_NoRedirect)

    def request(self, path: str, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        data = urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base + path, data=data, headers=dict(headers or {}))
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            response = self.opener.open(request, timeout=10)
            status, head, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, head, body = exc.code, exc.headers, exc.read()
        for cookie in head.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return status, dict(head.items()), body.decode()

    def token(self, flag_id: str) -> str:
        status, _, body = self.request(f"/flag/{flag_id}")
        assert status == 200
        return re.search(r"name='csrf' value='([0-9a-f]+)'", body).group(1)

    def decide(self, flag_id: str, **form: str) -> tuple[int, dict[str, str], str]:
        return self.request(f"/flag/{flag_id}/decide", {"csrf": self.token(flag_id), **form})


@pytest.fixture()
def server(store):
    with running(store) as server:
        yield server


def test_the_queue_lists_filters_and_counts(server, flags):
    client = Client(server.url)
    status, head, body = client.request("/")
    assert status == 200 and head["Content-Type"] == "text/html; charset=utf-8"
    assert len(re.findall(r"<tr data-flag=", body)) == len(flags)
    assert "1–6 of 6 flags" in body and "id='c-status-open' href='/?status=open'>open <b>6</b>" in body
    _, _, haryana = client.request("/?state=Haryana")
    assert "Karnal" in haryana and "Bhadohi" not in haryana
    assert len(re.findall(r"<tr data-flag=", haryana)) == 3
    _, _, services = client.request("/?flag_type=service")
    assert len(re.findall(r"<tr data-flag=", services)) == 1 and "Tourism" in services
    assert client.request("/?status=bogus")[0] == 400


def test_a_flag_page_shows_the_evidence(server, flags):
    rice = flag_id_of(flags, product="Basmati rice")
    status, _, body = Client(server.url).request(f"/flag/{rice}")
    assert status == 200
    assert "Basmati rice" in body and "10063020" in body and "description of 10063020" in body
    assert "<span id='confidence'>0.91</span>" in body
    assert "Textiles &amp; Apparel (HS 50–63)" in body and "90.0%" in body  # top exports
    assert "no decisions yet" in body
    assert Client(server.url).request("/flag/Fnothere")[0] == 404
    assert Client(server.url).request("/nowhere")[0] == 404


def test_every_string_is_escaped_and_scripts_need_the_nonce(tmp_path, ref_data):
    nasty = Flag("unclassified", "<b>list</b>", "Uttar Pradesh", "\"><img src=x onerror=alert(1)>",
                 "<script>alert('x')</script>", "", "'<script>' could not be classified",
                 {"kind": "unknown", "candidates": [{"code": "<i>", "description": "</td><script>"}],
                  "top_exports": [{"code": "x", "label": "<svg onload=alert(1)>", "share": 0.5}]})
    import pandas as pd

    store = ReviewStore(tmp_path / "r.sqlite", data_dir=ref_data)
    store.sync_flags(pd.DataFrame([nasty.to_row()], columns=list(FLAG_COLUMNS)))
    store.decide(nasty.flag_id, "note", "<i>Eve</i>", note="</textarea><script>alert(2)</script>")
    with running(store) as server:
        client = Client(server.url)
        for path in ("/", f"/flag/{nasty.flag_id}", "/?q=%3Cscript%3E"):
            status, head, body = client.request(path)
            assert status == 200
            nonce = re.search(r"script-src 'nonce-([^']+)'", head["Content-Security-Policy"]).group(1)
            assert re.findall(r"<script[^>]*>", body) == [f"<script nonce='{nonce}'>"]
            assert "<img" not in body and "<svg" not in body and "<i>" not in body
            assert "&lt;script&gt;alert(" in body or "&lt;script&gt;" in body
            assert head["X-Content-Type-Options"] == "nosniff"
            assert "frame-ancestors 'none'" in head["Content-Security-Policy"]
            assert "default-src 'none'" in head["Content-Security-Policy"]


def test_deciding_needs_the_csrf_token_of_this_browser(server, store, flags):
    rice = flag_id_of(flags, product="Basmati rice")
    form = {"action": "accept", "reviewer": "Mallory"}
    stranger = Client(server.url)
    assert stranger.request(f"/flag/{rice}/decide", form)[0] == 403            # no cookie, no token
    victim = Client(server.url)
    token = victim.token(rice)
    assert stranger.request(f"/flag/{rice}/decide", {**form, "csrf": token})[0] == 403  # another cookie
    stranger.token(rice)
    assert stranger.request(f"/flag/{rice}/decide", {**form, "csrf": "0" * 64})[0] == 403
    cross_site = victim.request(f"/flag/{rice}/decide", {**form, "csrf": token},
                                headers={"Origin": "http://evil.example"})
    assert cross_site[0] == 403
    assert store.decisions() == []
    # The same browser with its own token: saved, then on to the next open flag.
    status, head, _ = victim.request(f"/flag/{rice}/decide",
                                     {**form, "reviewer": "Asha Rao", "csrf": token,
                                      "back": "state=Uttar Pradesh"})
    assert status == 303
    assert head["Location"].startswith("/flag/F") and "done=" + rice in head["Location"]
    assert "state=Uttar+Pradesh" in head["Location"]
    decision = store.history(rice)[-1]
    assert (decision.action, decision.reviewer, decision.source) == ("accept", "Asha Rao", "web")
    assert victim.cookies["hsmatch_reviewer"] == "Asha%20Rao"
    _, _, page = victim.request(head["Location"])
    assert "value='Asha Rao'" in page and "Saved — accepted:" in page


def test_a_token_from_before_a_restart_is_refused(store, flags):
    rice = flag_id_of(flags, product="Basmati rice")
    with running(store) as first:
        client = Client(first.url)
        token = client.token(rice)
    with running(store) as second:
        client.base = second.url.rstrip("/")
        status, _, body = client.request(f"/flag/{rice}/decide",
                                         {"csrf": token, "action": "accept", "reviewer": "A"})
    assert status == 403 and "reload" in body
    assert store.decisions() == []


def test_requests_for_another_host_name_are_refused(server):
    status, _, body = Client(server.url).request("/", headers={"Host": f"evil.example:{server.port}"})
    assert status == 400 and "its own address" in body


def test_an_invalid_decision_shows_the_error_and_keeps_the_form(server, store, flags):
    kantha = flag_id_of(flags, product="Nakshi kantha")
    status, _, body = Client(server.url).decide(kantha, action="correct", reviewer="Asha",
                                                codes="1234", note="my <note>")
    assert status == 400
    assert "class='error' role='alert'" in body and "1234" in body
    assert "my &lt;note&gt;</textarea>" in body and "value='1234'" in body
    status, _, body = Client(server.url).decide(kantha, action="accept", reviewer="")
    assert status == 400 and "no reviewer name" in body
    assert store.decisions() == []


def test_the_last_open_flag_leads_back_to_the_queue(server, store, flags):
    client = Client(server.url)
    ids = list(flags["flag_id"])
    for flag_id in ids[:-1]:
        store.decide(flag_id, "accept", "Asha")
    status, head, _ = client.decide(ids[-1], action="reject", reviewer="Ravi")
    assert status == 303 and head["Location"].startswith("/?done=")
    _, _, body = client.request(head["Location"])
    assert "Saved — rejected:" in body and "data-status='open'" not in body


def test_two_reviewers_posting_at_once_both_keep_their_decisions(server, store, flags):
    ids = list(flags["flag_id"])
    results: dict[str, list[int]] = {"Asha": [], "Ravi": []}

    def review(name: str, action: str) -> None:
        client = Client(server.url)
        for flag_id in ids:
            results[name].append(client.decide(flag_id, action=action, reviewer=name)[0])

    threads = [threading.Thread(target=review, args=("Asha", "accept")),
               threading.Thread(target=review, args=("Ravi", "reject"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"Asha": [303] * len(ids), "Ravi": [303] * len(ids)}
    decisions = store.decisions()
    assert sorted(d.flag_id for d in decisions if d.reviewer == "Asha") == sorted(ids)
    assert sorted(d.flag_id for d in decisions if d.reviewer == "Ravi") == sorted(ids)


def test_a_standing_correction_shows_on_the_flag_page(server, store, flags):
    kantha = flag_id_of(flags, product="Nakshi kantha")
    client = Client(server.url)
    status, _, _ = client.decide(kantha, action="correct", reviewer="Asha", kind="goods",
                                 codes="5701.10.10", note="a quilt")
    assert status == 303
    _, _, body = client.request(f"/flag/{kantha}")
    assert "<span id='standing'>goods <span class='id'>57011010</span></span>" in body
    assert "corrected" in body and "a quilt" in body
