"""The published snapshot is replaced atomically; readers of the old one are not disturbed."""

from __future__ import annotations

import duckdb

from roadsafe.settings import Settings
from roadsafe.warehouse import publish_snapshot


def test_publish_replaces_the_snapshot_while_a_reader_holds_the_old_one(tmp_path):
    settings = Settings(home=tmp_path).ensure()
    con = duckdb.connect(str(settings.warehouse))
    con.execute("create schema marts; create table marts.t as select 1 as v")
    publish_snapshot(settings, con)
    reader = duckdb.connect(str(settings.published), read_only=True)
    assert reader.execute("select v from marts.t").fetchone() == (1,)

    con.execute("create or replace table marts.t as select 2 as v")
    publish_snapshot(settings, con)
    con.close()

    assert reader.execute("select v from marts.t").fetchone() == (1,)  # the old file, still open
    reader.close()
    fresh = duckdb.connect(str(settings.published), read_only=True)
    assert fresh.execute("select v from marts.t").fetchone() == (2,)
    fresh.close()
    assert sorted(p.name for p in settings.published.parent.iterdir()) == ["warehouse.duckdb"]
