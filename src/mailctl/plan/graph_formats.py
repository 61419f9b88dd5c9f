"""The formats ``mailctl graph`` draws in. Apart from :mod:`mailctl.plan.graph` so that the CLI's
``--format`` choice (and ``mailctl graph --help``) loads no kind descriptions."""

DOT, MERMAID = "dot", "mermaid"
FORMATS = (DOT, MERMAID)
