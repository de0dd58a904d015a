"""The SPARQL endpoint (`oligokb serve`) and the worker processes that bound every query (time, memory, rows)."""
