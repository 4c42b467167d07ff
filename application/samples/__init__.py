"""The sample campaign: deterministic, realistic, messy submissions for every form, unit and week.

>>> from application.samples import generate_samples            # doctest: +SKIP
>>> manifest = generate_samples("jiujiang-2022", "var/samples/jiujiang-2022", seed=2022)  # doctest: +SKIP

Or from the shell: ``python -m application.samples OUT_DIR [--seed N] [--scale N]``. The files land under
``OUT_DIR/<week>/<unit_id>/`` with the Chinese names offices use; ``OUT_DIR/manifest.jsonl`` lists them in the
order they were received (with what each file is expected to do: accepted, rejected or duplicate) and
``OUT_DIR/manifest.json`` holds the header (seed, scale, counts, missing submissions, rules).
"""

from application.samples.generator import generate_samples
from application.samples.manifest import Manifest, ManifestEntry, load_manifest

__all__ = ["Manifest", "ManifestEntry", "generate_samples", "load_manifest"]
