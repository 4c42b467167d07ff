"""Submissions for the dbt tests.

By default every submission goes through ingest's real path: the rows are written as a UTF-8 CSV with the
form's official headers and handed to ``ingest.service.submit`` (landing, validation, loading into raw.*),
with ``received_at`` set relative to the due time.

SWITCH POINT: if ``ingest.service`` cannot be imported (or ``ROADSAFE_TEST_RAW=sql``),
:meth:`RawWriter.submit` instead inserts the rows ingest would write straight into
``raw.submissions`` and ``raw.form_<code>`` with SQL. The expected figures in ``test_dbt_models.py``
are the same either way.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from ingest.schema import ensure_raw_schema, form_table
from roadsafe.schedule import form_due_at
from roadsafe.workcalendar import WorkCalendar

__all__ = ["RawWriter", "ingest_available"]


def ingest_available() -> bool:
    if os.environ.get("ROADSAFE_TEST_RAW") == "sql":
        return False
    try:
        import ingest.service  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class RawWriter:
    """Send submissions for ``settings`` (a roadsafe Settings with its campaign)."""

    settings: object
    calendar: WorkCalendar
    use_ingest: bool = field(default_factory=ingest_available)
    _seq: int = field(default=0, init=False)
    sent: dict = field(default_factory=dict, init=False)  # (form, unit, period) -> [submission ids]

    def __post_init__(self):
        self.campaign = self.settings.campaign()
        self.files = Path(self.settings.home) / "test-files"
        self.files.mkdir(parents=True, exist_ok=True)

    def due_at(self, period_no: int) -> dt.datetime:
        return form_due_at(self.campaign, self.calendar, self.campaign.period(period_no))

    def submit(
        self,
        form_code: str,
        unit_id: str,
        period_no: int,
        rows: list[dict],
        *,
        minutes_after_due: int = -120,
        expect: str = "accepted",
    ) -> str:
        """One attempt; ``rows`` are {column_key: value} (county columns hold unit ids, task numbers as text).

        ``minutes_after_due`` places the receipt time relative to the due time (negative = early).
        ``expect`` is the status the attempt must get (a rejected attempt needs rows that break a rule).
        Returns the submission id.
        """
        self._seq += 1
        received = self.due_at(period_no) + dt.timedelta(minutes=minutes_after_due)
        if self.use_ingest:
            submission_id = self._via_ingest(form_code, unit_id, period_no, rows, received, expect)
        else:
            submission_id = self._via_sql(form_code, unit_id, period_no, rows, received, expect)
        self.sent.setdefault((form_code, unit_id, period_no), []).append(submission_id)
        return submission_id

    # ------------------------------------------------------------------ the real path

    def _cell(self, form, key: str, value) -> str:
        if value is None:
            return ""
        if form.column(key).type == "county":
            return self.campaign.units[value].name
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value)

    def _via_ingest(self, form_code, unit_id, period_no, rows, received, expect) -> str:
        from ingest.service import submit

        form = self.campaign.forms[form_code]
        path = self.files / f"{self._seq:03d}-{form_code}-{unit_id}-{period_no}.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([c.header for c in form.columns])
            for row in rows:
                writer.writerow([self._cell(form, c.key, row.get(c.key)) for c in form.columns])
        receipt = submit(
            self.settings, path, unit=unit_id, form=form_code, period=period_no, received_at=received
        )
        assert receipt.status == expect, receipt.text()
        return receipt.submission_id

    # ------------------------------------------------------------------ SWITCH POINT: direct SQL

    def _via_sql(self, form_code, unit_id, period_no, rows, received, expect) -> str:
        import duckdb

        form = self.campaign.forms[form_code]
        due = self.due_at(period_no)
        late = max(0, -(-int((received - due).total_seconds()) // 60))
        con = duckdb.connect(str(self.settings.warehouse))
        try:
            ensure_raw_schema(con, self.campaign)
            submission_id = f"S{self._seq:06d}"
            con.execute(
                """insert into raw.submissions (submission_id, campaign_code, form_code, unit_id, period_no,
                       file_sha256, original_name, stored_path, size_bytes, channel, submitted_by,
                       received_at, due_at, minutes_late, status, row_count, error_count, warning_count)
                   values (?, ?, ?, ?, ?, ?, ?, ?, 1000, 'cli', 'test', ?, ?, ?, ?, ?, ?, 0)""",
                [
                    submission_id,
                    self.campaign.code,
                    form_code,
                    unit_id,
                    period_no,
                    f"{self._seq:064d}",
                    f"{form_code}.csv",
                    f"landing/{submission_id}.csv",
                    received,
                    due,
                    late,
                    expect,
                    len(rows) if expect == "accepted" else 0,
                    1 if expect == "rejected" else 0,
                ],
            )
            if expect == "accepted":
                keys = form.column_keys
                cols = ", ".join(f'"{k}"' for k in keys)
                marks = ", ".join("?" for _ in range(5 + len(keys)))
                for i, row in enumerate(rows):
                    subject = unit_id if form.grain == "task" else row[form.county_column]
                    con.execute(
                        f"insert into {form_table(form_code)} (submission_id, sheet, source_row, "
                        f"subject_unit_id, record_key, {cols}) values ({marks})",
                        [
                            submission_id,
                            "CSV",
                            2 + i,
                            subject,
                            str(row[form.key_column]),
                            *[row.get(k) for k in keys],
                        ],
                    )
        finally:
            con.close()
        return submission_id
