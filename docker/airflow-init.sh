#!/usr/bin/env bash
# airflow-init (docker-compose.yml): runs before every other Airflow service on each `docker compose up`,
# and is safe to run again (every step is idempotent).
#
#  1. checks the secrets (application.airflow.deploy_check: set, >= 32 bytes, no placeholder, all different)
#  2. migrates the metadata database (Airflow's tables and the FAB auth manager's)
#  3. creates each campaign's single-writer pool (application.airflow.campaigns pools), as `make up` does
#  4. the admin login (role Admin) with AIRFLOW_ADMIN_PASSWORD; its password follows the secret on every run
#  5. the portal's own account ROADSAFE_AIRFLOW_USER, role RoadsafePortal: "can create" and "can read" on
#     Assets and "can read" on Asset Aliases (finding its inbox asset and posting the upload's event), and
#     "can read" on DAGs, DAG Runs and Task Instances (the office page's status); nothing else
#  6. the state folders of every campaign on the shared volume (0700, as roadsafe.settings makes them)
set -euo pipefail

: "${ROADSAFE_HOME:?ROADSAFE_HOME is not set}"
portal_role="RoadsafePortal"

python -m application.airflow.deploy_check

airflow db migrate
airflow sync-perm  # the FAB roles and the permissions of every resource (before a role is given some)

pools="$(mktemp)"
python -m application.airflow.campaigns pools > "$pools"
airflow pools import "$pools"
rm -f "$pools"

ensure_user() {  # login role password email: created once, the password set from the secret on every run
  airflow users create --username "$1" --role "$2" --firstname "$1" --lastname roadsafe --email "$4" \
    --password "$3" > /dev/null
  airflow users reset-password --username "$1" --password "$3" > /dev/null
  echo "airflow-init: account $1 (role $2) ready"
}

ensure_user admin Admin "$AIRFLOW_ADMIN_PASSWORD" "${AIRFLOW_ADMIN_EMAIL:-admin@localhost}"

airflow roles create "$portal_role" > /dev/null
airflow roles add-perms "$portal_role" -a can_create can_read -r Assets
airflow roles add-perms "$portal_role" -a can_read -r "Asset Aliases" DAGs "DAG Runs" "Task Instances"
ensure_user "$ROADSAFE_AIRFLOW_USER" "$portal_role" "$ROADSAFE_AIRFLOW_PASSWORD" portal@localhost

python - <<'PY'
from roadsafe.settings import Settings

for settings in Settings.all_from_env():
    settings.ensure()
    print(f"airflow-init: state folders of {settings.campaign_code} ready in {settings.home}")
PY
echo "airflow-init: done"
