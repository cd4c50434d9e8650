-- The gateway's only table: every change it accepted, in order, as the signed request it
-- received. Nothing personal can live here: the bodies are onboarding records (certificates
-- of organisations) and CMS uploads of signer certificates.
CREATE TABLE changes (
    version     INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('onboarding', 'upload', 'withdrawal')),
    country     TEXT    NOT NULL CHECK (length(country) = 2),
    accepted_at TEXT    NOT NULL,
    body        BLOB    NOT NULL
);
