"""Uploaded materials (网上申报, docs/rules.md §19): the object store that keeps their bytes
(:mod:`store.materials.objects`), the table that keeps their metadata
(:mod:`store.materials.tables`), the records and audit chain of uploads and downloads
(:mod:`store.materials.records`) and their part of the dossier (:mod:`store.materials.dossier`)."""
