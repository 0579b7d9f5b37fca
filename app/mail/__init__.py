"""Email: an outbox table written in the caller's transaction, and a worker that sends it.

Queue with ``app.mail.services.queue_email``; ``flask worker`` delivers. See docs/email.md.
"""
