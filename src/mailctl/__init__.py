"""mailctl: declarative provisioning for AgentMail."""

__version__ = "0.1.0"
