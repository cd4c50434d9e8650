-- Revocation batches and their deletion join the change kinds. SQLite cannot alter a CHECK
-- constraint, so the table is rebuilt (inside the migration's transaction).
CREATE TABLE changes_new (
    version     INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('onboarding', 'upload', 'withdrawal',
                                                 'revocation_batch', 'revocation_deletion')),
    country     TEXT    NOT NULL CHECK (length(country) = 2),
    accepted_at TEXT    NOT NULL,
    body        BLOB    NOT NULL
);
INSERT INTO changes_new SELECT version, kind, country, accepted_at, body FROM changes;
DROP TABLE changes;
ALTER TABLE changes_new RENAME TO changes;
