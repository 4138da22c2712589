"""Safe parsing and validation: no DTDs, no entities, no network; XSD and Schematron."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lxml import etree

from eakte.xbau import messages, parsing
from eakte.xbau.errors import (
    XBauForbiddenMarkup,
    XBauMalformed,
    XBauOutgoingInvalid,
    XBauRuleViolated,
    XBauSchemaInvalid,
    XBauTooLarge,
)
from eakte.xbau.mapping import Authority

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE = (FIXTURES / "0200_neubau_efh.xml").read_bytes()

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<lolz>&lol9;</lolz>"""


def xxe(uri: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "{uri}">]>\n<r>&x;</r>'
    ).encode()


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.xml")))
def test_every_fixture_is_valid_against_the_official_xsd(fixture: str) -> None:
    message = parsing.load((FIXTURES / fixture).read_bytes())
    assert message.code == fixture[:4]


def test_billion_laughs_is_refused_without_expanding() -> None:
    with pytest.raises(XBauForbiddenMarkup):
        parsing.parse(BILLION_LAUGHS)


@pytest.mark.parametrize("uri", ["file:///etc/passwd", "http://127.0.0.1:9/evil.dtd"])
def test_external_entities_are_refused(uri: str) -> None:
    with pytest.raises(XBauForbiddenMarkup) as caught:
        parsing.parse(xxe(uri))
    assert "root:" not in caught.value.detail


def test_external_dtd_is_not_fetched() -> None:
    raw = b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd"><r/>'
    with pytest.raises(XBauForbiddenMarkup):
        parsing.parse(raw)


def test_doctype_inside_a_real_message_is_refused() -> None:
    raw = FIXTURE.replace(b"<xbau:baugenehmigung", b"<!DOCTYPE x []>\n<xbau:baugenehmigung", 1)
    with pytest.raises(XBauForbiddenMarkup):
        parsing.load(raw)


def test_malformed_xml() -> None:
    with pytest.raises(XBauMalformed):
        parsing.parse(FIXTURE[: len(FIXTURE) // 2])
    with pytest.raises(XBauMalformed):
        parsing.parse(b"   ")


def test_oversized_message() -> None:
    with pytest.raises(XBauTooLarge):
        parsing.parse(FIXTURE, max_bytes=len(FIXTURE) - 1)


def test_schema_invalid_message_names_the_reasons() -> None:
    raw = FIXTURE.replace(
        b"<versionsnummer>1</versionsnummer>", b"<versionsnummer>eins</versionsnummer>"
    )
    with pytest.raises(XBauSchemaInvalid) as caught:
        parsing.load(raw)
    errors = caught.value.extra["errors"]
    assert any("versionsnummer" in str(e["message"]) for e in errors)


def test_wrong_standard_version_is_schema_invalid() -> None:
    with pytest.raises(XBauSchemaInvalid):
        parsing.load(FIXTURE.replace(b'version="2.6"', b'version="2.5"', 1))


def test_schematron_rule_on_the_dvdv_kennung() -> None:
    raw = FIXTURE.replace(b"<kennung>bau:097610000</kennung>", b"<kennung>BAU-0976</kennung>")
    with pytest.raises(XBauRuleViolated) as caught:
        parsing.load(raw)
    assert caught.value.extra["errors"][0]["rule"] == "sch-xbau-001"


ENV = messages.Envelope(
    "1f0e2d3c-4b5a-4978-8877-665544332211",
    datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
    Authority("bau:097610000", "Stadt Augsburg"),
    Authority("bpo:091620000", "BayernPortal"),
)
REF = messages.Reference(
    "5b0f4c1e-8d7a-4a53-9d6e-2f1a7c3e9b10",
    "0200",
    datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    "BA-2026-00001",
    "3f2c9d4a-6b1e-4f8a-9c2d-7e5a1b0c4d92",
)


def test_generated_messages_are_valid_and_say_what_was_decided() -> None:
    nachforderung = messages.formal_check(
        ENV,
        REF,
        family="baugenehmigung",
        complete=False,
        findings=["Lageplan fehlt", "Standsicherheitsnachweis fehlt"],
        deadline=date(2027, 1, 15),
    )
    root = parsing.load(nachforderung).root
    assert root.findtext("{*}antragVollstaendig") == "false"
    assert [p.text for p in root.iter("{*}textabsatz")] == [
        "Lageplan fehlt",
        "Standsicherheitsnachweis fehlt",
    ]
    assert root.findtext("{*}befundFrist/{*}frist") == "2027-01-15"
    bescheid = messages.OutAttachment(
        "Baugenehmigung",
        "bescheid.pdf",
        "application/pdf",
        "urn:uuid:7f0e2d3c-4b5a-4978-8877-665544332211",
        "bescheid",
        2048,
        "ab" * 32,
    )
    decision = parsing.load(
        messages.decision(ENV, REF, family="baugenehmigung", granted=True, sealed_bescheid=bescheid)
    ).root
    assert decision.findtext("{*}bescheid/{*}tenor/{*}istGenehmigung") == "true"
    assert (
        decision.findtext("{*}anlagen/anlage/anhangOderVerlinkung/anhang/dateiname")
        == "bescheid.pdf"
    )
    for raw in (
        messages.formal_check(ENV, REF, family="vorbescheid", complete=True),
        messages.decision(ENV, REF, family="vorbescheid", granted=False),
        messages.receipt(ENV, REF, info="Eingang am 23.11.2026"),
        messages.rejection(
            ENV,
            refused=b"<x/>",
            refused_uuid=REF.message_uuid,
            refused_type="0200",
            refused_created=None,
            reasons=[("X002", "Schema – ungültig")],
        ),
        messages.participation_request(
            ENV,
            REF,
            request_uuid="2f0e2d3c-4b5a-4978-8877-665544332211",
            agency="Gemeinde",
            reason="Einvernehmen § 36 BauGB",
            deadline=date(2027, 1, 1),
            consequence="gilt als erteilt",
        ),
    ):
        parsing.load(raw)


def test_an_outgoing_message_that_fails_its_schema_is_an_operator_error() -> None:
    broken = messages.Envelope(
        ENV.message_uuid, ENV.created_at, Authority("bau:1", "A"), Authority("not a dvdv id", "B")
    )
    with pytest.raises(XBauOutgoingInvalid) as caught:
        messages.receipt(broken, REF, info="x")
    assert caught.value.status == 500


def test_parser_never_resolves_entities_even_if_asked_to_load() -> None:
    parser = parsing.safe_parser()
    tree = etree.fromstring(b"<r>&amp;</r>", parser)
    assert tree.text == "&"
