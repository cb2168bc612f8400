"""Signals other apps listen to (they import moodboards; moodboards never imports them)."""

from django.dispatch import Signal

# Sent with ``image_id`` once an upload is processed (READY) and that is committed:
# taste embeds it then, so Analyze Board and search find it already measured.
image_ready = Signal()
