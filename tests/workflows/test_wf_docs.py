"""Generated procedure docs: deterministic Markdown with a Mermaid diagram per procedure."""

from __future__ import annotations

import re

from workflows import load_all, render_markdown

DEFS = load_all()


def test_rendering_is_deterministic_and_order_independent() -> None:
    first = render_markdown(DEFS)
    assert first == render_markdown(load_all())
    assert first == render_markdown(list(reversed(list(DEFS.values()))))
    assert first.endswith("\n") and not first.endswith("\n\n")
    assert not [line for line in first.splitlines() if line != line.rstrip()]


def test_one_mermaid_state_diagram_per_procedure() -> None:
    text = render_markdown(DEFS)
    blocks = re.findall(r"```mermaid\n(.*?)```", text, flags=re.S)
    assert len(blocks) == len(DEFS)
    for block, definition in zip(blocks, DEFS.values(), strict=True):
        assert block.startswith("stateDiagram-v2\n")
        assert f"[*] --> {definition.initial_state} : {definition.start.id}" in block
        for state in definition.states:
            assert f" as {state.id}\n" in block
            if state.final:
                assert f"{state.id} --> [*]" in block


def test_tables_list_actions_deadlines_and_guards() -> None:
    text = render_markdown(DEFS)
    for def_id in DEFS:
        assert f"## {def_id} v{DEFS[def_id].version}: " in text
    assert "### Aktionen / Actions" in text
    assert "### Fristen / Deadlines" in text
    row = next(line for line in text.splitlines() if line.startswith("| `nachfordern` |"))
    assert "eingegangen → nachforderung" in row
    assert "| clerk |" in row and "| ja | 0201 |" in row
    assert "notify: applicant" in row
    fiction = next(
        line for line in text.splitlines() if line.startswith("| `genehmigungsfiktion` |")
    )
    assert "3 weeks Versatz, dann 3 months" in fiction
    assert "`fiktion_eintreten`" in fiction
    assert "## Guards" in text and "| `four_eyes` |" in text


def test_single_procedure() -> None:
    text = render_markdown([DEFS["baybo-58"]])
    assert text.count("```mermaid") == 1
    assert "## baybo-59" not in text
    row = next(
        line for line in text.splitlines() if "| `genehmigungsverfahren_verlangen` |" in line
    )
    assert "convert_procedure: baybo-59" in row
