"""Ingest: submitted files are landed, read, validated and loaded into the warehouse.

The public API, imported from the module that holds it:

* :func:`ingest.service.submit` — land and load one submitted file; returns its receipt.
* :func:`ingest.service.process_inbox` — finish pending receipts, then land and load every new inbox file.
* :func:`ingest.service.load_receipt` — load one landed receipt on an open warehouse connection.
* :func:`ingest.history.replay_manifest` — submit the entries of a manifest in order, with their original
  receive times.
* :func:`ingest.precheck.precheck` — check a file as ingestion would, writing nothing.
* Errors: :class:`ingest.service.UsageError` (the request is wrong), :class:`ingest.service.ProcessingFailed`
  (loading a landed file failed; it stays pending), :class:`ingest.landing.LandingError` (the file could not
  be stored), each with a Chinese ``message``.
* :class:`ingest.service.Receipt` — the answer to one submission (回执).
"""
