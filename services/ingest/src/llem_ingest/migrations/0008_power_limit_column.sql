-- The per-GPU power limit a run set (protocol.power_limit_w, a grid dimension), as a column the
-- leaderboard reads for each configuration: the power cap of every data point. Null: limits left
-- as the runner found them (the fingerprint records those).
ALTER TABLE runs
    ADD COLUMN power_limit_w double precision
        GENERATED ALWAYS AS ((job->'protocol'->>'power_limit_w')::double precision) STORED;
