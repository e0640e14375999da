"""Built-in formats; importing this package registers each of them (one module per format)."""

from spectrakit.io.formats import (  # noqa: F401
    csv_table,
    dig4bio,
    excel,
    excel_writer,
    hdf5_table,
    jcamp,
    long_table,
    matlab,
    numpy_arrays,
    opus,
    parquet_table,
    spc,
)
