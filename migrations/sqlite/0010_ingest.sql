-- Meter ingest (issue #6): device registry, quarantine, per-integration secrets,
-- daily and per-period aggregates, CSV route batches.

-- Device alarm flags reported with a reading (ingest::payload::Alarms bits).
ALTER TABLE readings ADD COLUMN alarms INTEGER NOT NULL DEFAULT 0;

-- LoRaWAN devices (devEui, 16 lowercase hex) → the meter they read.
CREATE TABLE devices (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    dev_eui       TEXT NOT NULL,
    meter_id      INTEGER NOT NULL REFERENCES meters(id),
    last_seen_at  TEXT,
    last_fcnt     INTEGER,
    created_at    TEXT NOT NULL,
    UNIQUE (tenant_id, dev_eui)
);
CREATE INDEX devices_meter ON devices (tenant_id, meter_id);

-- Uplinks and rows that could not be tied to a meter (unknown device, undecodable
-- payload): kept for staff, never dropped. One row per distinct message.
CREATE TABLE ingest_quarantine (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    source        TEXT NOT NULL,
    dedupe_key    TEXT NOT NULL,
    device        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    payload       TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    resolved_at   TEXT,
    UNIQUE (tenant_id, source, dedupe_key)
);
CREATE INDEX ingest_quarantine_open ON ingest_quarantine (tenant_id, resolved_at, received_at);

-- Senders that may post readings (ChirpStack's HTTP integration): the secret itself
-- is shown once; only its SHA-256 is kept.
CREATE TABLE ingest_integrations (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants(id),
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    secret_sha256  TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    last_used_at   TEXT,
    UNIQUE (tenant_id, name),
    UNIQUE (tenant_id, secret_sha256)
);

-- Consumption per meter and local day, maintained as readings arrive (charts, leak
-- detection). night_min_lph: the lowest flow seen between 02:00 and 05:00, l/h.
CREATE TABLE reading_daily (
    tenant_id      INTEGER NOT NULL,
    meter_id       INTEGER NOT NULL,
    day            TEXT NOT NULL,
    litres         INTEGER NOT NULL,
    readings       INTEGER NOT NULL,
    night_min_lph  INTEGER,
    PRIMARY KEY (tenant_id, meter_id, day)
) WITHOUT ROWID;

-- Consumption per meter and billing period (YYYYMM), with the period's last reading.
CREATE TABLE reading_periods (
    tenant_id      INTEGER NOT NULL,
    meter_id       INTEGER NOT NULL,
    period         INTEGER NOT NULL,
    litres         INTEGER NOT NULL,
    readings       INTEGER NOT NULL,
    last_read_at   TEXT NOT NULL,
    last_litres    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, meter_id, period)
) WITHOUT ROWID;

-- Route files uploaded by staff, with their per-row report.
CREATE TABLE ingest_batches (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    source        TEXT NOT NULL,
    filename      TEXT NOT NULL,
    uploaded_by   TEXT NOT NULL,
    status        TEXT NOT NULL,
    rows_total    INTEGER NOT NULL DEFAULT 0,
    accepted      INTEGER NOT NULL DEFAULT 0,
    duplicates    INTEGER NOT NULL DEFAULT 0,
    rejected      INTEGER NOT NULL DEFAULT 0,
    report        TEXT,
    error         TEXT,
    started_at    TEXT NOT NULL,
    finished_at   TEXT
);
CREATE INDEX ingest_batches_recent ON ingest_batches (tenant_id, started_at);

-- Anomalies found in consumption or reported by devices, for staff to act on and for
-- the customer to see as an alert. dedupe_key makes detection idempotent
-- (e.g. 'fuga_nocturna:<meter>:<first night>').
CREATE TABLE anomalies (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    meter_id      INTEGER NOT NULL REFERENCES meters(id),
    contract_id   INTEGER NOT NULL REFERENCES contracts(id),
    kind          TEXT NOT NULL,
    dedupe_key    TEXT NOT NULL,
    detail        TEXT NOT NULL,
    data          TEXT NOT NULL,
    status        TEXT NOT NULL,
    resolution    TEXT,
    resolved_by   TEXT,
    resolved_at   TEXT,
    detected_at   TEXT NOT NULL,
    UNIQUE (tenant_id, dedupe_key)
);
CREATE INDEX anomalies_open ON anomalies (tenant_id, status, detected_at);
CREATE INDEX anomalies_contract ON anomalies (tenant_id, contract_id, status);

-- Field work orders (inspect a possible leak, replace a stuck meter, …).
CREATE TABLE work_orders (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    contract_id   INTEGER NOT NULL REFERENCES contracts(id),
    meter_id      INTEGER REFERENCES meters(id),
    anomaly_id    INTEGER REFERENCES anomalies(id),
    kind          TEXT NOT NULL,
    description   TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX work_orders_contract ON work_orders (tenant_id, contract_id);

-- Readings stored per minute and source (the ingest monitor's rate).
CREATE TABLE ingest_rates (
    tenant_id     INTEGER NOT NULL,
    minute        TEXT NOT NULL,
    source        TEXT NOT NULL,
    readings      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, minute, source)
) WITHOUT ROWID;

-- Readings customers send from the app: one per idempotency key (the offline queue
-- may send the same one twice), with the optional photo of the meter.
CREATE TABLE self_reads (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    idem_key      TEXT NOT NULL,
    contract_id   INTEGER NOT NULL REFERENCES contracts(id),
    meter_id      INTEGER NOT NULL REFERENCES meters(id),
    read_at       TEXT NOT NULL,
    litres        INTEGER NOT NULL,
    outcome       TEXT NOT NULL,
    message       TEXT,
    photo         BLOB,
    photo_type    TEXT,
    created_at    TEXT NOT NULL,
    UNIQUE (tenant_id, idem_key)
);
CREATE INDEX self_reads_meter ON self_reads (tenant_id, meter_id, read_at);
