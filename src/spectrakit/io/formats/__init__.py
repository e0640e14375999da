"""Built-in formats; importing this package registers each of them (one module per format)."""

from spectrakit.io.formats import csv_table, hdf5_table, parquet_table  # noqa: F401
