"""Workflows: plan, apply, rotate, unlock, export/import, dns, drift. Each one assembles the lock,
the reader, the writer, the applier and the secrets sink in one place and returns results (no
printing): the CLI (``mailctl.cli``) and the Python API (``mailctl.project``) both call these."""
