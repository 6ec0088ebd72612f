"""Stand-ins for Twilio and Jira: for development, tests and benchmarks."""
