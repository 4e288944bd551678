"""Albums, shaped like tags: `store` keeps them in the catalog, `service` answers for a library (members
of manual and smart albums, exports)."""
