"""Requisitions, access control, the audit log and evidence packages.

- `site`: site policy (`site.toml`): users, roles, camera scopes, retention, extractors.
- `scope`: cameras x UTC time ranges.
- `requisition`: open / list / show / close requisitions (stored in the home).
- `access`: who may do what under which requisition (`AccessDenied`), and the audit event.
- `audit`, `audit_verify`: the hash-chained, signed audit log and its verification;
  `audit_format` (hashed and signed bytes), `audit_head` (the signed head file),
  `audit_anchor` (the catalog's record of the log's last record).
- `keys`: the site's signing key and query-hashing secret; `files`: atomic file writes.
- `export`, `media`, `report_html`, `package_verify`: evidence packages.

Nothing is imported here so that importing one module stays cheap.
"""
