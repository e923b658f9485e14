-- llem storage schema v1. Apache-2 TimescaleDB features only (hypertables, time_bucket).
CREATE EXTENSION IF NOT EXISTS timescaledb;

CREATE TABLE campaigns (
    campaign_id   uuid PRIMARY KEY,
    name          text NOT NULL,
    description   text NOT NULL DEFAULT '',
    job_count     integer NOT NULL,
    spec          jsonb NOT NULL,
    submitted_at  timestamptz NOT NULL,
    cancelled_at  timestamptz,
    cancel_reason text
);

CREATE TABLE jobs (
    job_id      uuid PRIMARY KEY,
    campaign_id uuid NOT NULL,
    pool        text NOT NULL,
    repetition  integer NOT NULL,
    spec        jsonb NOT NULL,
    queued_at   timestamptz NOT NULL
);
CREATE INDEX jobs_campaign_idx ON jobs (campaign_id);

CREATE TABLE runs (
    run_id          uuid PRIMARY KEY,
    job_id          uuid NOT NULL,
    campaign_id     uuid NOT NULL,
    runner_id       text NOT NULL,
    attempt         integer NOT NULL,
    status          text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    started_at      timestamptz,
    ended_at        timestamptz,
    backend         text,
    model           text,
    meter           text,
    job             jsonb,
    fingerprint     jsonb,
    summary         jsonb,
    prompt_tokens   bigint,
    output_tokens   bigint,
    duration_s      double precision,
    energy_j        double precision,
    energy_per_output_token_j double precision,
    output_tokens_per_s       double precision,
    quality_flags   jsonb NOT NULL DEFAULT '[]',
    failure_reason  text,
    failure_type    text,
    retryable       boolean,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX runs_campaign_idx ON runs (campaign_id);
CREATE INDEX runs_job_idx ON runs (job_id);
CREATE INDEX runs_started_idx ON runs (started_at DESC);

CREATE TABLE runners (
    runner_id      text PRIMARY KEY,
    hostname       text NOT NULL,
    pools          text[] NOT NULL,
    started_at     timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    heartbeat_interval_s double precision NOT NULL,
    current_job_id uuid,
    current_run_id uuid,
    gpus           jsonb NOT NULL DEFAULT '[]',
    llem_version   text NOT NULL
);

CREATE TABLE metric_samples (
    sampled_at      timestamptz NOT NULL,
    run_id          uuid NOT NULL,
    gpu_index       smallint,
    meter           text NOT NULL,
    power_w         double precision,
    power_avg_w     double precision,
    energy_counter_j double precision,
    temperature_c   double precision,
    gpu_utilization_pct double precision,
    memory_used_bytes bigint,
    sm_clock_mhz    double precision,
    memory_clock_mhz double precision,
    requests_completed_total bigint,
    prompt_tokens_total bigint,
    output_tokens_total bigint
);
SELECT create_hypertable('metric_samples', by_range('sampled_at', INTERVAL '1 day'));
-- Natural key: one reading per run, device and instant. NULLS NOT DISTINCT: host-level samples too.
CREATE UNIQUE INDEX metric_samples_key ON metric_samples (run_id, gpu_index, sampled_at) NULLS NOT DISTINCT;

CREATE TABLE dead_letters (
    id          bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    stream      text NOT NULL,
    subject     text NOT NULL,
    stream_seq  bigint NOT NULL,
    payload     bytea NOT NULL,
    reason      text NOT NULL,
    UNIQUE (stream, stream_seq)
);
