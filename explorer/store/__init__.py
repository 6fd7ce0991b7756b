"""The run store: a SQLite registry of runs and one folder of files per run.

`explorer.store.records` says what a run is (its record, its status, its files, its id);
`explorer.store.registry.RunStore` keeps them; `explorer.store.leases` says which servers and
commands still hold their runs; `explorer.store.connections` pools the SQLite connections.
"""
