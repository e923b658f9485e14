-- Idempotence for metric samples at the unit the runner publishes: one row per (run, batch seq).
-- A batch whose key is already here was stored before (a redelivery or replay): its samples are
-- skipped without touching the hypertable, and new batches are COPYed straight into it.
CREATE TABLE metric_batches (
    run_id      uuid NOT NULL,
    seq         integer NOT NULL,
    samples     integer NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, seq)
);

-- Every MetricSample field has its column (these three were dropped before).
ALTER TABLE metric_samples
    ADD COLUMN throttle_reasons bigint,
    ADD COLUMN cpu_package_energy_counter_j double precision,
    ADD COLUMN dram_energy_counter_j double precision;
