"""CSRF on everything, generated from the URL conf: a new view is covered the day
it is added.

A logged-in owner's browser POSTs to every URL of the project without a CSRF
token (what a hostile page can make a browser do): every one is refused. The
exemptions are listed below with the reason; API calls with a token are exempt by
design, and the API still enforces CSRF for a browser session (DRF's
SessionAuthentication).
"""

from __future__ import annotations

from html.parser import HTMLParser

from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

# Routes a cookie-authenticated POST without a token may reach, and why.
EXEMPT = {
    # api.errors.not_found: the JSON 404 for unknown /api/ URLs. csrf_exempt so an
    # unknown URL answers JSON rather than Django's HTML 403; it changes nothing.
    "api/.*": 404,
}


# DRF views that render HTML (the API docs pages) show the generic 403 page, without
# DRF's "CSRF Failed" message: for them the same request is sent again with the token,
# and it must then get past the check (405: they only answer GET).
HTML_API_VIEWS = {"api/docs/", "api/redoc/"}


def _is_csrf_refusal(client, route: str, url: str, response, method: str = "post") -> bool:
    if response.status_code != 403:
        return False
    if response["Content-Type"].startswith("application/json"):
        return "CSRF" in response.json()["error"]["message"]
    if route in HTML_API_VIEWS:
        client.get("/api/tokens/")  # a page with a form: sets the CSRF cookie
        token = client.cookies["csrftoken"].value
        return getattr(client, method)(url, HTTP_X_CSRFTOKEN=token).status_code == 405
    return b"CSRF" in response.content


def test_the_walk_covers_the_whole_url_conf(project_urls):
    routes = {route for route, _ in project_urls}
    # Pages, object URLs, the API, the admin and the auth views are all in the walk.
    assert {"login/", "signup/", "logout/", "api/tokens/", "api/teams/"} <= routes
    assert any(r.startswith("admin/") for r in routes)
    assert sum("<" in r for r in routes) > 40
    assert set(EXEMPT) | HTML_API_VIEWS <= routes, "a route named here no longer exists"


def test_every_post_without_a_csrf_token_is_refused(project_urls, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    wrong = []
    for route, url in project_urls:
        response = client.post(url)
        if route in EXEMPT:
            if response.status_code != EXEMPT[route]:
                wrong.append(f"{url} (exempt) answered {response.status_code}")
        elif not _is_csrf_refusal(client, route, url, response):
            wrong.append(f"POST {url} answered {response.status_code}, not a CSRF 403")
    assert not wrong, "\n".join(wrong)


def test_every_api_write_from_a_browser_session_needs_the_token(project_urls, alice):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(alice)
    api_urls = [(r, u) for r, u in project_urls if r.startswith("api/") and r not in EXEMPT]
    assert len(api_urls) > 20
    wrong = []
    for route, url in api_urls:
        for method in ("post", "put", "patch", "delete"):
            response = getattr(api, method)(url, {}, format="json")
            if not _is_csrf_refusal(api, route, url, response, method):
                wrong.append(f"{method.upper()} {url} answered {response.status_code}")
    assert not wrong, "\n".join(wrong)


def test_a_session_write_with_the_token_goes_through(alice, team):
    # The refusals above are about the token, not about the session itself.
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(alice)
    api.get("/api/tokens/")  # a page with a form: it sets the CSRF cookie
    token = api.cookies["csrftoken"].value
    response = api.post(
        "/api/teams/", {"name": "Night shift"}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201, response.content


def test_api_token_calls_are_exempt_by_design(alice, team, world):
    # A Bearer token is never sent by a browser on its own (unlike a cookie), so a
    # hostile page can't make a browser use it: no CSRF token needed.
    api = APIClient(enforce_csrf_checks=True)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {world['api_secret']}")
    response = api.post("/api/teams/", {"name": "Night shift"}, format="json")
    assert response.status_code == 201, response.content
    assert "csrftoken" not in response.cookies


class _Forms(HTMLParser):
    """The POST forms of a page, and whether each carries the CSRF token."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = (attrs.get("method") or "get").lower()
            self._current = {
                "action": attrs.get("action"),
                "post": method == "post",
                "token": False,
            }
            self.forms.append(self._current)
        elif (
            tag == "input"
            and self._current is not None
            and attrs.get("name") == "csrfmiddlewaretoken"
            and attrs.get("value")
        ):
            self._current["token"] = True

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _post_forms_without_token(client, urls) -> tuple[int, list[str]]:
    seen, missing = 0, []
    for _, url in urls:
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        parser = _Forms()
        parser.feed(response.content.decode())
        for form in parser.forms:
            if form["post"]:
                seen += 1
                if not form["token"]:
                    missing.append(f"{url}: <form method=post action={form['action']!r}>")
    return seen, missing


def test_every_post_form_on_every_page_carries_the_csrf_token(project_urls, alice):
    owner = Client(enforce_csrf_checks=True)
    owner.force_login(alice)
    app_urls = [(r, u) for r, u in project_urls if not r.startswith("admin/")]
    seen, missing = _post_forms_without_token(owner, app_urls)
    # Logged out: login and signup.
    more, missing_anon = _post_forms_without_token(Client(enforce_csrf_checks=True), project_urls)
    # The admin, as a superuser.
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x" * 20)
    staff = Client(enforce_csrf_checks=True)
    staff.force_login(admin)
    admin_urls = [(r, u) for r, u in project_urls if r.startswith("admin/")]
    admin_seen, missing_admin = _post_forms_without_token(staff, admin_urls)
    assert not missing + missing_anon + missing_admin, "\n".join(
        missing + missing_anon + missing_admin
    )
    # The walk really rendered forms: board, image, team, token pages, login, admin.
    assert seen >= 10 and more >= 2 and admin_seen >= 3, (seen, more, admin_seen)
