"""The embedded warehouse: one DuckDB file; datasets are schemas named as in BigQuery.

A thin layer on `SQLWarehouse`: DuckDB's dialect and type map (`types`), the inserts of staged
files (`inserts`: NDJSON through DuckDB's JSON reader, Arrow IPC through Arrow scans), and the
warehouse itself (`warehouse`: every load one transaction of DDL, rows, ledger and history).
SQL text is built only from identifiers that `names.quote` validated and quoted (the `noqa: S608`
marks); every value travels as a query parameter."""

from ingestor.warehouse.duckdb.warehouse import DuckDBWarehouse

__all__ = ["DuckDBWarehouse"]
