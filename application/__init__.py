"""The application layer: wires the core, ingest, dbt, reports and the portal into what people run.

``cli`` (the ``roadsafe`` command) and ``commands/`` its subcommands; ``build`` (reference tables, dbt,
snapshot); ``backup`` (archive, restore, rebuild from the landing zone); ``airflow/`` (the task and trigger
functions the DAGs call, the local Airflow environment); ``reminders``; ``exports``; ``samples`` and
``demo/`` (the sample campaign and its replay). Nothing below this layer imports it.
"""
