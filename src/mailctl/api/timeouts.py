"""How long a request may take. Apart from :mod:`mailctl.api.client` (and httpx) so that the
CLI can show the default in ``--help`` without importing the HTTP client."""

DEFAULT_TIMEOUT = 30.0
CONNECT_TIMEOUT_CAP = 10.0  # a TCP/TLS handshake that takes longer will not succeed
