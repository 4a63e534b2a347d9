"""Authentication: the local operator without users, bearer tokens, session cookies, CSRF,
the login rate limit and the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from quantdesk.services.auth import Role

if TYPE_CHECKING:
    from conftest import ApiHarness


def test_without_users_every_request_is_the_local_admin(local_client: TestClient) -> None:
    response = local_client.get("/api/me")
    assert response.status_code == 200
    assert response.json() == {"name": "local", "role": "admin", "via": "local"}


def test_once_a_user_exists_anonymous_requests_are_refused(harness: ApiHarness) -> None:
    response = harness.client.get("/api/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401
    page = harness.client.get("/portfolios", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/portfolios"
    assert harness.client.get("/login").status_code == 200


def test_bearer_token_identifies_its_user(harness: ApiHarness) -> None:
    response = harness.as_role(Role.TRADER).get("/api/me")
    assert response.json() == {"name": "trader1", "role": "trader", "via": "token"}


def test_wrong_malformed_and_revoked_tokens_are_refused(harness: ApiHarness) -> None:
    client = TestClient(harness.client.app)
    token = harness.tokens[Role.VIEWER]
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for header in (f"Bearer {tampered}", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer "):
        response = client.get("/api/me", headers={"Authorization": header})
        assert response.status_code == 401, header
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    token_id = token.split("_")[1]
    harness.web.auth.revoke_token(token_id)
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_login_sets_a_session_cookie_that_authenticates(
    harness: ApiHarness, log_in: Callable[[TestClient, str, str], str]
) -> None:
    client = TestClient(harness.client.app)
    client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "viewer1",
            "password": "correct horse viewer",
            "login_token": client.cookies["quantdesk_login"],
            "next": "/dashboard",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    set_cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("quantdesk_session=")
    )
    assert "HttpOnly" in set_cookie
    assert "SameSite=lax" in set_cookie or "SameSite=Lax" in set_cookie
    assert "Secure" not in set_cookie  # plain http on loopback
    assert client.get("/api/me").json() == {"name": "viewer1", "role": "viewer", "via": "session"}


def test_login_needs_the_form_token_and_never_redirects_off_site(harness: ApiHarness) -> None:
    client = TestClient(harness.client.app)
    data = {"username": "viewer1", "password": "correct horse viewer"}
    forged = client.post("/login", data={**data, "login_token": "x" * 43}, follow_redirects=False)
    assert forged.status_code == 403
    assert "quantdesk_session" not in client.cookies
    client.get("/login")
    token = client.cookies["quantdesk_login"]
    response = client.post(
        "/login",
        data={**data, "login_token": token, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_wrong_password_and_unknown_user_read_the_same(harness: ApiHarness) -> None:
    client = TestClient(harness.client.app)
    answers = []
    for username in ("viewer1", "nobody"):
        client.get("/login")
        response = client.post(
            "/login",
            data={
                "username": username,
                "password": "wrong password",
                "login_token": client.cookies["quantdesk_login"],
            },
        )
        assert response.status_code == 401
        answers.append("Wrong username or password." in response.text)
    assert answers == [True, True]


def test_failed_logins_are_rate_limited_per_username(harness: ApiHarness) -> None:
    client = TestClient(harness.client.app)

    def attempt(password: str) -> int:
        client.get("/login")
        return client.post(
            "/login",
            data={
                "username": "admin1",
                "password": password,
                "login_token": client.cookies["quantdesk_login"],
            },
            follow_redirects=False,
        ).status_code

    assert [attempt("wrong") for _ in range(5)] == [401] * 5
    # the sixth try is refused even with the right password, and says when to retry
    client.get("/login")
    refused = client.post(
        "/login",
        data={
            "username": "admin1",
            "password": "correct horse admin",
            "login_token": client.cookies["quantdesk_login"],
        },
    )
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    # the limit is per username: another user still logs in
    client.get("/login")
    other = client.post(
        "/login",
        data={
            "username": "viewer1",
            "password": "correct horse viewer",
            "login_token": client.cookies["quantdesk_login"],
        },
        follow_redirects=False,
    )
    assert other.status_code == 303


def test_cookie_posts_need_the_csrf_token(
    harness: ApiHarness, log_in: Callable[[TestClient, str, str], str]
) -> None:
    client = TestClient(harness.client.app)
    csrf = log_in(client, "viewer1", "correct horse viewer")
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    assert client.post("/logout", data={"csrf_token": "x" * 43}).status_code == 403
    cross = client.post(
        "/logout",
        data={"csrf_token": csrf},
        headers={"Origin": "http://evil.example"},
        follow_redirects=False,
    )
    assert cross.status_code == 403
    done = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert client.get("/api/me").status_code == 401


def test_local_operator_is_protected_from_cross_site_posts(local_client: TestClient) -> None:
    response = local_client.post(
        "/logout", data={}, headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False
    )
    assert response.status_code == 403


def test_every_mutating_call_writes_an_audit_row(harness: ApiHarness) -> None:
    client = TestClient(harness.client.app)
    client.get("/login")
    client.post(
        "/login",
        data={
            "username": "trader1",
            "password": "wrong password",
            "login_token": client.cookies["quantdesk_login"],
        },
    )
    harness.client.post("/api/me")  # anonymous, refused
    entries = harness.web.audit.entries(limit=10)
    assert [(e.actor, e.action, e.outcome.value, e.status) for e in entries[:2]] == [
        ("anonymous", "POST /api/me", "denied", 401),
        ("trader1", "POST /login", "denied", 401),
    ]
    assert all("password" not in str(e.details) for e in entries)
