"""Council administration pages."""
