"""The run store: a SQLite registry of runs and one folder of files per run.

`explorer.store.records` says what a run is (its record, its files, its id); `explorer.store.
registry.RunStore` keeps them; `explorer.store.connections` pools the SQLite connections.
"""
