"""What a process loaded at start-up is frozen once, out of the full collections' way."""
import gc

from portal_common.observability import freeze_loaded_objects


def test_loaded_objects_are_frozen_once_per_process():
    freeze_loaded_objects()
    frozen = gc.get_freeze_count()
    assert frozen > 1000  # the modules, schemas and app objects loaded so far
    [object() for _ in range(10)]
    freeze_loaded_objects()  # a second container in the same process changes nothing
    assert gc.get_freeze_count() == frozen
