-- The AquaCIS bridge (issue #7). Keep in step with migrations/postgres/0012_legacy.sql.

-- Dead letters: an outbox row that will not be retried by itself (permanent refusal or
-- too many attempts) until staff replay it. `sent_at`: a non-idempotent effect went
-- out and its outcome is not known yet — the next attempt checks before sending again.
ALTER TABLE outbox ADD COLUMN dead_at TEXT;
ALTER TABLE outbox ADD COLUMN sent_at TEXT;

-- Where each domain's truth lives during the migration; changed by an admin at run time.
CREATE TABLE legacy_domains (
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    domain      TEXT NOT NULL,   -- contratos | lecturas | deuda | ordenes | pagos | datos_cliente
    reads       TEXT NOT NULL CHECK (reads IN ('supra', 'legado')),
    writes      TEXT NOT NULL CHECK (writes IN ('supra', 'legado', 'ambos')),
    updated_at  TEXT NOT NULL,
    updated_by  INTEGER REFERENCES staff_users(id),
    PRIMARY KEY (tenant_id, domain)
);

-- The last answer of each cached AquaCIS read (served fresh within the TTL; served
-- stale, with its date, when AquaCIS is down).
CREATE TABLE legacy_cache (
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    cache_key   TEXT NOT NULL,   -- operation + its request, e.g. getDeuda:{"numContrato":"…"}
    body        TEXT NOT NULL,   -- the typed response as JSON
    fetched_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, cache_key)
);

-- Nightly sync: one row per run; what AquaCIS says of each contract; what could not be
-- imported and why; the reconciliation's differences.
CREATE TABLE legacy_sync_runs (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    watermark_from TEXT,          -- AquaCIS's clock, RFC 3339
    watermark_to  TEXT,
    status        TEXT NOT NULL,  -- en_curso | terminada | fallida
    seen          INTEGER NOT NULL DEFAULT 0,
    imported      INTEGER NOT NULL DEFAULT 0,
    quarantined   INTEGER NOT NULL DEFAULT 0,
    readings      INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    report        TEXT            -- JSON: counts, balances, mismatches
);

CREATE TABLE legacy_contracts (
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
    number          TEXT NOT NULL,
    nif             TEXT NOT NULL,
    holder          TEXT NOT NULL,
    status          TEXT NOT NULL,
    use_type        TEXT NOT NULL,
    meter_serial    TEXT,
    email           TEXT,
    phone           TEXT,
    debt_centavos   INTEGER NOT NULL,
    synced_at       TEXT NOT NULL,
    run_id          INTEGER NOT NULL REFERENCES legacy_sync_runs(id),
    PRIMARY KEY (tenant_id, number)
);

CREATE TABLE legacy_quarantine (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    run_id      INTEGER NOT NULL REFERENCES legacy_sync_runs(id),
    entity      TEXT NOT NULL,   -- contrato | lectura | deuda
    legacy_key  TEXT NOT NULL,
    reason      TEXT NOT NULL,
    raw         TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX legacy_quarantine_run ON legacy_quarantine (tenant_id, run_id);
