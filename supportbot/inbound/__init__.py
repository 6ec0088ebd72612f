"""The inbound path: Twilio's signed webhook to a stored message and a TwiML reply."""
