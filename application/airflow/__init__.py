"""What the DAGs call: task functions, the inbox trigger, and the local Airflow environment."""
