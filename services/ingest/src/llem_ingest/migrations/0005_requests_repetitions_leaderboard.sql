-- Per-request records (hypertable), one row per run and repetition, and the columns and indexes
-- the API's queries need (leaderboard by task/model/GPU/backend, runs by campaign, time series).
CREATE TABLE request_samples (
    started_at    timestamptz NOT NULL,
    run_id        uuid NOT NULL,
    repetition    integer NOT NULL,
    request_index integer NOT NULL,
    prompt_tokens integer,
    output_tokens integer NOT NULL,
    ttft_ms       double precision,
    e2e_ms        double precision NOT NULL,
    itl_count     integer NOT NULL,
    itl_mean_ms   double precision,
    itl_p50_ms    double precision,
    itl_p99_ms    double precision,
    energy_j      double precision,
    error         text
);
SELECT create_hypertable('request_samples', by_range('started_at', INTERVAL '7 days'));
CREATE UNIQUE INDEX request_samples_key ON request_samples (run_id, repetition, request_index, started_at);

CREATE TABLE run_repetitions (
    run_id          uuid NOT NULL,
    repetition      integer NOT NULL,
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL,
    duration_s      double precision NOT NULL,
    requests        integer NOT NULL,
    output_tokens   bigint NOT NULL,
    output_tokens_per_s double precision,
    energy_j        double precision,
    active_energy_j double precision,
    energy_per_output_token_j double precision,
    PRIMARY KEY (run_id, repetition)
);

ALTER TABLE runs
    ADD COLUMN prompt_set text,
    ADD COLUMN gpu_name   text,
    ADD COLUMN gpu_count  integer,
    ADD COLUMN model_name text;
UPDATE runs SET
    prompt_set = job->'workload'->>'prompt_set',
    model_name = job->>'model_name',
    gpu_name = fingerprint->'gpus'->0->>'name',
    gpu_count = jsonb_array_length(COALESCE(fingerprint->'gpus', '[]'::jsonb))
WHERE job IS NOT NULL;
CREATE INDEX runs_leaderboard_idx ON runs (prompt_set, model_name, gpu_name, backend, energy_per_output_token_j)
    WHERE status = 'completed' AND NOT superseded;
CREATE INDEX metric_samples_run_time_idx ON metric_samples (run_id, sampled_at DESC);
