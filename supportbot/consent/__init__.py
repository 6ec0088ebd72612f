"""Consent: who may be texted, and the tamper-evident ledger of every change."""
