-- Witness cosignatures of the transparency log's checkpoints (C2SP tlog-cosignature), kept so
-- that verifiers requiring k witnesses can sync after a restart. Tree sizes and signatures of
-- witnesses only: nothing personal.
CREATE TABLE cosignatures (
    size      BIGINT NOT NULL,
    name      TEXT   NOT NULL,
    key_id    BIGINT NOT NULL,
    signature BYTEA  NOT NULL,
    PRIMARY KEY (size, name, key_id)
);
