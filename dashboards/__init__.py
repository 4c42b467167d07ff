"""Reports and dashboards: weekly 通报 and 调度单, monthly 排名 and 小结 as HTML, PDF and XLSX editions,
e-mail delivery, and the static site.

Modules, from data to output:

=====================  ============================================================================
``data``               every SQL read of the marts (and the ref tables) → polars frames
``edition_meta``       what an edition is: kind, period, 期号, times, campaign words (``edition.json``)
``editions``           freeze a snapshot, render it, manifest; ``weekly_edition`` / ``monthly_edition``
``bulletin``           工作通报 (weekly)            ``dispatch``   工作调度单 (weekly, per unit)
``ranking``            工作排名 (monthly)           ``summary``    工作小结 (monthly)
``narrative``          generated sentences (总体情况, 滞后单位, 报送情况, 数据说明)
``tables`` ``charts``  great-tables builders (one per table) and altair → inline SVG
``rendering``          Jinja2 (autoescape) → HTML; WeasyPrint → PDF; ``workbook`` → XLSX
``delivery``           SMTP from ``ROADSAFE_SMTP_*``        ``site``  static site + read-only server
``commands``           ``roadsafe report …``, ``roadsafe site``, ``roadsafe serve``
=====================  ============================================================================

Heavy libraries (duckdb, great_tables, weasyprint, altair) are imported by the modules that use them,
never by ``application.cli`` at start-up (``commands`` imports them inside its handlers).
"""

__all__: list[str] = []
