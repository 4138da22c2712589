"""Live co-editing of the case file (Yjs-compatible, durable)."""
