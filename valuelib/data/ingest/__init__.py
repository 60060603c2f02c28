"""`valuereview import`: a team's exports (billing, CRM, survey, help desk) into the warehouse.

`mapping` reads the mapping file, `sources` finds and reads the export files, `convert` turns
rows into contract rows (rejecting bad ones with their file, line and reason), `arr` derives
`arr_history` from billing lines, and `run` ties them together and writes the load report.
"""

from valuelib.data.ingest.run import ImportFailed, ImportResult, run_import

__all__ = ["ImportFailed", "ImportResult", "run_import"]
