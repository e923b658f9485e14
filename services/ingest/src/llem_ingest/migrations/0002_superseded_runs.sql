-- A run is superseded when a later attempt of the same job exists: its data is kept, never counted.
ALTER TABLE runs ADD COLUMN superseded boolean NOT NULL DEFAULT false;
CREATE INDEX runs_job_attempt_idx ON runs (job_id, attempt);
