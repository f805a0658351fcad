"""The Redox edge: the only code that knows Redox field names (parse requests, format responses)."""
