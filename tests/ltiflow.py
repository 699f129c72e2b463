"""A tiny browser for tests: signs in and follows redirects and auto-submitting forms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower(), {}))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class Browser:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def url(self, path: str) -> str:
        return urljoin(self.base_url + "/", path.lstrip("/"))

    def sign_in(self, username: str, password: str) -> None:
        page = self.session.get(self.url("/accounts/login/"), timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, "no CSRF token on the login page"
        response = self.session.post(
            self.url("/accounts/login/"),
            data={"login": username, "password": password, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": self.url("/accounts/login/")},
            timeout=10,
        )
        if response.url.endswith("/accounts/2fa/authenticate/"):  # an administrator: MFA
            response = self.pass_mfa(response, username)
        assert response.status_code == 200 and "sessionid" in self.session.cookies, response.text

    def pass_mfa(self, page: requests.Response, username: str) -> requests.Response:
        """Type the demo administrator's authenticator code (seed_demo's published secret)."""
        from tests.mfa import fresh_demo_code

        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, "no CSRF token on the MFA page"
        return self.session.post(
            page.url,
            data={"code": fresh_demo_code(username), "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": page.url},
            timeout=10,
        )

    def follow(self, url: str, *, max_steps: int = 10) -> requests.Response:
        """GET ``url`` and keep following redirects and auto-submitting form_posts."""
        response = self.session.get(self.url(url), timeout=10)
        for _ in range(max_steps):
            page_forms = forms(response.text) if response.status_code == 200 else []
            if "document.forms[0].submit()" not in response.text or not page_forms:
                return response
            form = page_forms[0]
            response = self.session.post(
                urljoin(response.url, form.action), data=form.fields, timeout=10
            )
        return response
