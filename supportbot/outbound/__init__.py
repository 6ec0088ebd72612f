"""Everything the system sends goes through here: checks, encoding, rate, send, errors."""
