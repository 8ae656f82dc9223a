"""The research-system API (JSON over HTTP, bearer tokens scoped to a study)."""
