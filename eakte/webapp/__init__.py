"""The browser workspace for officials: serves the built single-page app under `/app/`."""
