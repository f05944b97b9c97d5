"""Item 5 of issue 6: the interface speaks Italian and English.

``test_every_catalogue_is_fully_translated`` fails while any entry of a .po
file in the repository is empty or fuzzy: it is the check that the catalogue
is complete, run standalone with
``.venv/bin/python -m pytest tests/crm/test_i18n.py -k catalogue``; refresh the
catalogue with ``make messages`` first.
"""

from pathlib import Path

import pytest
from django.test import Client

from tests.crm.i18n_support import compile_catalogues

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def _compiled(django_db_blocker):
    compile_catalogues()


def test_an_italian_browser_gets_the_login_page_in_italian(db):
    page = Client(headers={"Accept-Language": "it-IT,it;q=0.9,en;q=0.5"}).get(
        "/accounts/login/"
    )
    html = page.content.decode()
    assert '<html lang="it">' in html
    assert "Accedi" in html and "Nome utente" in html
    assert "Log in" not in html


def test_an_english_browser_gets_english(db):
    html = (
        Client(headers={"Accept-Language": "en-GB,en"}).get("/accounts/login/")
    ).content.decode()
    assert '<html lang="en">' in html and "Log in" in html


def test_the_home_page_speaks_italian(manager):
    client = Client(headers={"Accept-Language": "it"})
    client.force_login(manager)
    html = client.get("/").content.decode()
    assert '<html lang="it">' in html
    assert "Esci" in html  # "Log out"
    assert "Importazioni" in html  # the managers' "Imports" link


def test_the_switcher_overrides_the_browser(manager):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(manager)
    response = client.post("/i18n/setlang/", {"language": "it", "next": "/"})
    assert response.status_code == 302
    assert '<html lang="it">' in client.get("/").content.decode()


def test_wrong_credentials_are_explained_in_italian(manager):
    client = Client(headers={"Accept-Language": "it"})
    html = client.post(
        "/accounts/login/", {"username": "manager", "password": "nope"}
    ).content.decode()
    assert "non corrispondono" in html


def po_problems(path: Path) -> list[str]:
    """Entries of a .po file that are fuzzy or have an empty translation."""
    problems: list[str] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.strip().splitlines() if line]
        if not lines or all(line.startswith("#~") for line in lines):
            continue
        msgid = _field(lines, "msgid")
        if msgid == "":
            continue  # the header entry
        if any(line.startswith("#,") and "fuzzy" in line for line in lines):
            problems.append(f"fuzzy: {msgid!r}")
            continue
        translations = [
            _field(lines, key)
            for key in ("msgstr", *(f"msgstr[{n}]" for n in range(6)))
            if any(line.startswith(key + " ") for line in lines)
        ]
        if not translations or any(text == "" for text in translations):
            problems.append(f"untranslated: {msgid!r}")
    return problems


def _field(lines: list[str], key: str) -> str:
    """The concatenated string of ``key "..."`` and its continuation lines."""
    parts: list[str] = []
    collecting = False
    for line in lines:
        if line.startswith(key + " "):
            collecting = True
            parts.append(line[len(key) + 1 :].strip()[1:-1])
        elif collecting and line.startswith('"'):
            parts.append(line.strip()[1:-1])
        elif collecting:
            break
    return "".join(parts)


def test_every_catalogue_is_fully_translated():
    catalogues = [
        path
        for path in REPO.glob("**/locale/*/LC_MESSAGES/*.po")
        if ".venv" not in path.parts
    ]
    assert catalogues, "no .po file: run `make messages`"
    report = {}
    for path in catalogues:
        problems = po_problems(path)
        if problems:
            report[str(path.relative_to(REPO))] = problems
    assert not report, "\n".join(
        f"{name}: {len(problems)} entries to translate, e.g.\n  "
        + "\n  ".join(problems[:25])
        for name, problems in report.items()
    )
