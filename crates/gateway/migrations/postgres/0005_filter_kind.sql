-- The gateway's revocation-filters statements join the change kinds.
ALTER TABLE changes DROP CONSTRAINT changes_kind_check;
ALTER TABLE changes ADD CONSTRAINT changes_kind_check
    CHECK (kind IN ('onboarding', 'upload', 'withdrawal', 'revocation_batch',
                    'revocation_deletion', 'rule', 'rule_deletion', 'valuesets',
                    'revocation_filters'));
