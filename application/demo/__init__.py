"""``roadsafe demo``: the sample campaign replayed week by week through real Airflow DAG runs."""

from application.demo.replay import run_demo

__all__ = ["run_demo"]
