"""Password reset: by e-mail for staff (who have an address), "ask your teacher" for students,
and never a 500 — no mail server in the demo (a file per mail), a failed send is a page.
"""

from __future__ import annotations

import logging
import re
import socket
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from config.settings import base
from roster.models import User
from tests.factories import PASSWORD, StudentFactory, TeacherFactory
from tests.sso.pages import main_text

pytestmark = pytest.mark.django_db

RESET = "/accounts/password/reset/"
ASK_TEACHER = "パスワードを わすれたら、せんせいに きいてね。あたらしい パスワードを もらえます。"
RESET_PAGE = (
    f"パスワードを わすれたとき {ASK_TEACHER} 先生・職員の方 "
    "登録されているメールアドレスを入力してください。"
    "パスワードを設定しなおすためのリンクをメールで送ります。 "
    "メールアドレス メールを送る ログインの がめんに もどる"
)
SENT_PAGE = (
    "メールを送りました 入力されたアドレスが登録されていれば、"
    "パスワードを設定しなおすためのリンクを送りました。"
    "メールが届かないときは、学校の管理者に連絡してください。 "
    f"{ASK_TEACHER} ログインの がめんに もどる"
)
FAILED_PAGE = (
    "メールを送れませんでした いまはメールを送ることができません。"
    "しばらくしてから、もう一度お試しください。続くときは、学校の管理者に連絡してください。 "
    f"{ASK_TEACHER} ログインの がめんに もどる"
)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: connecting is refused


def test_the_reset_page_tells_students_to_ask_their_teacher(client: Client) -> None:
    response = client.get(RESET)
    assert response.status_code == HTTPStatus.OK
    assert main_text(response.content.decode()) == RESET_PAGE


def test_a_teacher_gets_a_reset_link_and_sets_a_new_password(client: Client) -> None:
    teacher = TeacherFactory.create()
    response = client.post(RESET, {"email": teacher.email})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/password/reset/done/"
    assert main_text(client.get(response["Location"]).content.decode()) == SENT_PAGE
    [message] = mail.outbox
    assert message.to == [teacher.email]
    match = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", str(message.body))
    assert match is not None
    form_url = client.get(match.group(1))["Location"]  # allauth moves the key to the session
    new = {"password1": "atarashii-pass-42", "password2": "atarashii-pass-42"}
    response = client.post(form_url, new)
    assert response.status_code == HTTPStatus.FOUND
    assert main_text(client.get(response["Location"]).content.decode()) == (
        "パスワードを変更しました ログインする"
    )
    assert User.objects.get(pk=teacher.pk).check_password("atarashii-pass-42")


def test_an_address_nobody_has_gets_the_same_page_and_no_mail(client: Client) -> None:
    StudentFactory.create()  # students have no address: nothing can match them
    response = client.post(RESET, {"email": "nobody@example.jp"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/password/reset/done/"
    assert mail.outbox == []


def test_a_mail_server_that_refuses_is_a_page_not_a_500(
    client: Client, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    settings.EMAIL_TIMEOUT = 10
    teacher = TeacherFactory.create()
    with caplog.at_level(logging.ERROR, logger="manabi.mail"):
        response = client.post(RESET, {"email": teacher.email})
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert main_text(response.content.decode()) == FAILED_PAGE
    [record] = [r for r in caplog.records if r.name == "manabi.mail"]
    assert record.getMessage() == (
        "mail account/email/password_reset_key not sent: ConnectionRefusedError"
    )
    assert teacher.email not in caplog.text


def test_the_default_mail_backend_writes_files(
    client: Client, settings: Any, tmp_path: Path
) -> None:
    """Without MANABI_EMAIL_HOST (the demo) each mail is a file in the data directory."""
    assert base.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend"
    assert base.EMAIL_FILE_PATH == base.DATA_DIR / "mail"
    settings.EMAIL_BACKEND = base.EMAIL_BACKEND
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    teacher = TeacherFactory.create()
    response = client.post(RESET, {"email": teacher.email})
    assert response.status_code == HTTPStatus.FOUND
    [written] = list((tmp_path / "mail").iterdir())
    assert f"To: {teacher.email}" in written.read_text()


@pytest.mark.parametrize("value", ["%00", "%ED%A0%80", "a%00@example.jp", "%ED%A0%80@example.jp"])
def test_unencodable_form_values_are_form_errors(client: Client, value: str) -> None:
    """Django decodes invalid UTF-8 to U+FFFD and its form fields refuse NUL."""
    form = "application/x-www-form-urlencoded"
    response = client.post(RESET, f"email={value}", content_type=form)
    assert response.status_code == HTTPStatus.OK
    assert '<div class="notice notice-error" role="alert">' in response.content.decode()
    assert mail.outbox == []
    response = client.post(
        "/accounts/login/", f"login={value}&password={PASSWORD}", content_type=form
    )
    assert response.status_code == HTTPStatus.OK
    assert "_auth_user_id" not in client.session
