"""recall: outbound product-recall campaign orchestrator."""

__version__ = "0.1.0"
