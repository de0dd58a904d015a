"""The bottom layer: the domain's terms, which every other package may import and which imports none of them.

Namespaces and vocabularies (with their .ttl files), the IRIs of studies, publications and figures, the
evidence-tier rule, the export contract, the error root and the atomic file writer. See docs/architecture.md.
"""
