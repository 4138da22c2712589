"""XBau 2.6: receive building applications from the state portal and answer in XBau (issue 14).

`parsing` (safe parsing, XSD and Schematron), `mapping` (pure XML <-> domain functions),
`messages` (building outgoing messages), `service` (import, outgoing queue), `events` (the
one hook the procedure calls), `router` (inbox and pickup), `cli` (`eakte xbau ...`).
"""
