"""The default file plan (Aktenplan) of a building authority; each city may change it.

The codes follow the structure of the Einheitsaktenplan for Bavarian municipalities
(Hauptgruppe 6 "Bauwesen", 63 "Bauordnung"); the exact numbers and periods below are a
starting point, not law: the city's records manager (Registratur) and its archive confirm or
change them through `PUT /api/v1/records/file-plan/{code}` before the first Aussonderung.
Retention periods use the usual steps 5/10/15/20/25/30 years (opengever metadata, DOMAIN.md);
archival value follows the vocabulary anbieten / archivwürdig / nicht archivwürdig.
"""

from __future__ import annotations

from dataclasses import dataclass

from eakte.records.models import ArchivalValue


@dataclass(frozen=True)
class DefaultEntry:
    code: str
    title: str
    retention_years: int
    archival_value: ArchivalValue
    is_default: bool = False


DEFAULT_FILE_PLAN: tuple[DefaultEntry, ...] = (
    DefaultEntry(
        "632.1",
        "Baugenehmigungsverfahren (Art. 59, 60 BayBO), Genehmigung erteilt",
        30,
        ArchivalValue.anbieten,
        is_default=True,
    ),
    DefaultEntry(
        "632.2",
        "Bauanträge abgelehnt, zurückgenommen oder erledigt",
        10,
        ArchivalValue.anbieten,
    ),
    DefaultEntry(
        "632.3", "Genehmigungsfreistellung (Art. 58 BayBO)", 10, ArchivalValue.nicht_archivwuerdig
    ),
    DefaultEntry("632.4", "Vorbescheid (Art. 71 BayBO)", 10, ArchivalValue.anbieten),
    DefaultEntry(
        "632.9",
        "Bauakten herausragender Objekte (Denkmäler, Großprojekte)",
        30,
        ArchivalValue.archivwuerdig,
    ),
)
