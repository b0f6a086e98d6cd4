-- Daily reconciliation per channel (issue #5): our applied payments against the
-- provider's statement. Keep in step with migrations/postgres/0009_reconciliation.sql.
CREATE TABLE reconciliation_runs (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
    provider        TEXT NOT NULL,        -- 'stp' | 'conekta'
    day             TEXT NOT NULL,        -- operation day (Mexico City), YYYY-MM-DD
    ran_at          TEXT NOT NULL,
    statement_count INTEGER NOT NULL,
    ours_count      INTEGER NOT NULL,
    matched         INTEGER NOT NULL,
    issues          INTEGER NOT NULL,
    error           TEXT                  -- the statement could not be fetched
);
CREATE INDEX reconciliation_runs_day ON reconciliation_runs (tenant_id, day);

CREATE TABLE reconciliation_items (
    id                       INTEGER PRIMARY KEY,
    tenant_id                INTEGER NOT NULL REFERENCES tenants(id),
    run_id                   INTEGER NOT NULL REFERENCES reconciliation_runs(id),
    kind                     TEXT NOT NULL,  -- 'faltante' | 'sobrante' | 'importe_distinto' | 'duplicado'
    provider_key             TEXT NOT NULL,  -- e.g. 'stp:5000123', 'conekta:ord_…'
    reference                TEXT NOT NULL,
    statement_centavos       INTEGER,
    ours_centavos            INTEGER,
    received_id              INTEGER REFERENCES payments_received(id)
);
CREATE INDEX reconciliation_items_run ON reconciliation_items (tenant_id, run_id);
