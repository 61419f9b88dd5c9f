"""The sandbox's rules (scopes, permissions, idempotency, cascades, validation), one module per
resource family. ``core`` holds what they share; nothing here knows about HTTP or WSGI."""
