"""Defaults of the HTTP server (:mod:`mailctl.sandbox.server`) that ``mailctl sandbox serve --help``
shows: apart, so that the help imports neither the server nor the app."""

# Requests served at once. Injected latency sleeps inside one, so this caps throughput at
# threads / latency: 64 is apply's default --max-parallelism, so its requests never queue here.
THREADS = 64
