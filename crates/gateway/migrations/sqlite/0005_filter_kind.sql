-- The gateway's revocation-filters statements join the change kinds (the table is rebuilt:
-- SQLite cannot alter a CHECK constraint).
CREATE TABLE changes_new (
    version     INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('onboarding', 'upload', 'withdrawal',
                                                 'revocation_batch', 'revocation_deletion',
                                                 'rule', 'rule_deletion', 'valuesets',
                                                 'revocation_filters')),
    country     TEXT    NOT NULL CHECK (length(country) = 2),
    accepted_at TEXT    NOT NULL,
    body        BLOB    NOT NULL
);
INSERT INTO changes_new SELECT version, kind, country, accepted_at, body FROM changes;
DROP TABLE changes;
ALTER TABLE changes_new RENAME TO changes;
