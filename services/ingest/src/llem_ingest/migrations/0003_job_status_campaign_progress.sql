-- The scheduler's verdicts: each job's state (ordered by the scheduler's revision) and each
-- campaign's latest progress (counts per state, ETA), for the API's campaign views.
ALTER TABLE jobs
    ADD COLUMN status            text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    ADD COLUMN status_revision   bigint NOT NULL DEFAULT 0,
    ADD COLUMN status_reason     text,
    ADD COLUMN attempt           integer NOT NULL DEFAULT 0,
    ADD COLUMN runner_id         text,
    ADD COLUMN run_id            uuid,
    ADD COLUMN status_changed_at timestamptz;
CREATE INDEX jobs_campaign_status_idx ON jobs (campaign_id, status);

ALTER TABLE campaigns
    ADD COLUMN status              text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'finished', 'cancelled')),
    ADD COLUMN progress            jsonb,
    ADD COLUMN progress_updated_at timestamptz;
