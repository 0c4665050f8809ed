"""Benchmarks: `python -m bench.<name>`, each printing one JSON object as its last line."""
