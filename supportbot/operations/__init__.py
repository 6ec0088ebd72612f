"""Operating supportbot: /metrics, the worker's exporter, scrape-time state, request ids, doctor."""
