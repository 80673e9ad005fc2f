"""The console speaks French by default and English on request, each user's choice kept, and
shows times on the user's own clock, labelled."""

import html
import re

import pytest
from fastapi.testclient import TestClient

from recall.accounts.users import get_user
from tests.console_support import csrf_of, log_in


def test_french_by_default_then_english_kept_for_the_user(console):
    app, web = console
    with TestClient(web) as client:
        login = client.get("/login").text
        assert '<html lang="fr">' in login
        log_in(client, "alice")
        page = client.get("/my/list").text
        assert "Ma liste" in page and "Se déconnecter" in page
        chosen = client.post(
            "/language",
            data={"csrf": csrf_of(page), "lang": "en", "back": "/my/list"},
            follow_redirects=False,
        )
        assert chosen.status_code == 303 and chosen.headers["location"] == "/my/list"
        assert "Log out" in client.get("/my/list").text
    assert get_user(engine=app.engine, username="alice").language == "en"
    with TestClient(web) as client:  # a new session, a new machine: still English once in
        log_in(client, "alice")
        assert '<html lang="en">' in client.get("/my/list").text


def test_switching_language_comes_back_to_the_same_view_with_its_filters(console):
    _app, web = console
    with TestClient(web) as client:
        log_in(client, "lea")
        page = client.get("/recalls/R-2026-014/cases?status=identified&sort=ref").text
        back = re.search(r'name="back" value="([^"]+)"', page).group(1)
        assert html.unescape(back) == "/recalls/R-2026-014/cases?status=identified&sort=ref"
        chosen = client.post("/language", data={"csrf": csrf_of(page), "lang": "en",
                                                "back": html.unescape(back)},
                             follow_redirects=False)  # fmt: skip
        assert chosen.headers["location"] == "/recalls/R-2026-014/cases?status=identified&sort=ref"


def test_a_language_chosen_before_login_and_an_unknown_one(console):
    _app, web = console
    with TestClient(web) as client:
        token = csrf_of(client.get("/login").text)
        client.post("/language", data={"csrf": token, "lang": "en", "back": "/login"})
        assert "Log in" in client.get("/login").text
        refused = client.post("/language", data={"csrf": token, "lang": "xx"})
        assert refused.status_code == 409
        assert client.post("/language", data={"csrf": "forged", "lang": "fr"}).status_code == 403


def test_the_users_clock_is_kept_and_labelled(console):
    app, web = console  # the console's clock: Monday 23 November 2026, 09:00 UTC
    with TestClient(web) as client:
        token = log_in(client, "alice")
        assert "10:00" in client.get("/me").text and "votre heure (Paris)" in client.get("/me").text
        saved = client.post(
            "/me", data={"csrf": token, "lang": "fr", "time_zone": "Indian/Reunion"}
        )
        assert "Enregistré" in saved.text
        assert "Il est 13:00, votre heure (La Réunion)" in client.get("/me").text
        wrong = client.post("/me", data={"csrf": token, "lang": "fr", "time_zone": "Mars/Olympus"})
        assert wrong.status_code == 400 and "Mars/Olympus" in wrong.text
        # A folder of the zone database, or a file of it no clock can be labelled with.
        for odd in ("Europe", "Etc", "Factory", "posixrules", "right/Europe/Paris"):
            wrong = client.post("/me", data={"csrf": token, "lang": "fr", "time_zone": odd})
            assert wrong.status_code == 400 and odd in wrong.text
    assert get_user(engine=app.engine, username="alice").time_zone == "Indian/Reunion"


def test_the_home_clock_is_a_time_zone_or_start_up_says_which_setting_is_wrong():
    from recall.settings import Settings

    base = {"RECALL_DATA_DIR": "/tmp/recall-settings"}
    assert Settings.from_env(base).home_zone == "Europe/Paris"
    assert Settings.from_env({**base, "RECALL_HOME_ZONE": "Indian/Reunion"}).home_zone == (
        "Indian/Reunion"
    )
    for wrong in ("Paris", "Europe", "Factory"):  # not a zone, a folder, a zone Babel can't name
        with pytest.raises(ValueError, match="RECALL_HOME_ZONE must be a time zone"):
            Settings.from_env({**base, "RECALL_HOME_ZONE": wrong})
