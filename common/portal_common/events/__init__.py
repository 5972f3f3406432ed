"""Events: the envelope, the catalogue that validates it, and the ways to publish and consume."""
from portal_common.events.envelope import iso_utc, new_event, utc_now_iso

__all__ = ["iso_utc", "new_event", "utc_now_iso"]
