-- SUPRA Water core schema (SQLite). Keep in step with migrations/postgres/0001_core.sql:
-- the schema-parity test compares both.
-- Conventions: money in integer centavos (*_centavos), water volumes in integer litres
-- (*_litres), timestamps UTC (TEXT, RFC 3339, written by sqlx from chrono::DateTime<Utc>).

CREATE TABLE tenants (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    short_name  TEXT NOT NULL,
    hostname    TEXT UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE sectors (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    municipio   TEXT NOT NULL,
    UNIQUE (tenant_id, code)
);

CREATE TABLE persons (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    full_name    TEXT NOT NULL,
    given_names  TEXT NOT NULL,
    surname1     TEXT NOT NULL,
    surname2     TEXT NOT NULL,
    phone        TEXT,
    email        TEXT,
    rfc          TEXT,
    curp         TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX persons_tenant_phone ON persons (tenant_id, phone);

CREATE TABLE addresses (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    street      TEXT NOT NULL,
    ext_number  TEXT NOT NULL,
    int_number  TEXT,
    colonia     TEXT NOT NULL,
    municipio   TEXT NOT NULL,
    cp          TEXT NOT NULL,
    sector_id   INTEGER REFERENCES sectors(id)
);

CREATE TABLE tomas (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    address_id   INTEGER NOT NULL REFERENCES addresses(id),
    kind         TEXT NOT NULL,
    diameter_mm  INTEGER NOT NULL
);

CREATE TABLE contracts (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    number        TEXT NOT NULL,
    person_id     INTEGER NOT NULL REFERENCES persons(id),
    toma_id       INTEGER NOT NULL REFERENCES tomas(id),
    use_type      TEXT NOT NULL,
    tariff_class  TEXT NOT NULL,
    status        TEXT NOT NULL,
    start_date    TEXT NOT NULL,
    vulnerable    INTEGER NOT NULL DEFAULT 0,
    search_text   TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (tenant_id, number)
);
CREATE INDEX contracts_person ON contracts (tenant_id, person_id);

CREATE TABLE meters (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    contract_id   INTEGER NOT NULL REFERENCES contracts(id),
    serial        TEXT NOT NULL,
    make          TEXT NOT NULL,
    model         TEXT NOT NULL,
    diameter_mm   INTEGER NOT NULL,
    digits        INTEGER NOT NULL,
    multiplier    INTEGER NOT NULL DEFAULT 1,
    installed_on  TEXT NOT NULL,
    smart         INTEGER NOT NULL DEFAULT 0,
    active        INTEGER NOT NULL DEFAULT 1,
    UNIQUE (tenant_id, serial)
);
CREATE INDEX meters_contract ON meters (tenant_id, contract_id);

CREATE TABLE readings (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    meter_id      INTEGER NOT NULL REFERENCES meters(id),
    period        INTEGER NOT NULL,          -- billing period as YYYYMM
    read_at       TEXT NOT NULL,
    value_litres  INTEGER NOT NULL,
    source        TEXT NOT NULL,
    quality       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (tenant_id, meter_id, read_at)
);
CREATE INDEX readings_meter_period ON readings (tenant_id, meter_id, period);

-- Every peso that moves is a ledger entry; balances are derived, never stored.
CREATE TABLE ledger_entries (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants(id),
    contract_id      INTEGER NOT NULL REFERENCES contracts(id),
    kind             TEXT NOT NULL,
    amount_centavos  INTEGER NOT NULL,
    description      TEXT NOT NULL,
    occurred_on      TEXT NOT NULL,
    created_at       TEXT NOT NULL
);
CREATE INDEX ledger_contract ON ledger_entries (tenant_id, contract_id);

CREATE TABLE citizen_accounts (
    id                   INTEGER PRIMARY KEY,
    tenant_id            INTEGER NOT NULL REFERENCES tenants(id),
    primary_contract_id  INTEGER NOT NULL REFERENCES contracts(id),
    created_at           TEXT NOT NULL,
    last_login_at        TEXT,
    UNIQUE (tenant_id, primary_contract_id)
);

CREATE TABLE citizen_contracts (
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    citizen_id   INTEGER NOT NULL REFERENCES citizen_accounts(id),
    contract_id  INTEGER NOT NULL REFERENCES contracts(id),
    linked_at    TEXT NOT NULL,
    PRIMARY KEY (citizen_id, contract_id)
);

CREATE TABLE staff_users (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
    email           TEXT NOT NULL,
    full_name       TEXT NOT NULL,
    role            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    created_at      TEXT NOT NULL,
    UNIQUE (tenant_id, email)
);

CREATE TABLE sessions (
    id                  INTEGER PRIMARY KEY,
    tenant_id           INTEGER NOT NULL REFERENCES tenants(id),
    token_hash          TEXT NOT NULL UNIQUE,
    kind                TEXT NOT NULL,          -- 'citizen' | 'staff'
    citizen_id          INTEGER REFERENCES citizen_accounts(id),
    staff_id            INTEGER REFERENCES staff_users(id),
    active_contract_id  INTEGER REFERENCES contracts(id),
    created_at          TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    last_seen_at        TEXT NOT NULL,
    ip                  TEXT
);

CREATE TABLE otp_challenges (
    id                  INTEGER PRIMARY KEY,
    tenant_id           INTEGER NOT NULL REFERENCES tenants(id),
    contract_id         INTEGER NOT NULL REFERENCES contracts(id),
    purpose             TEXT NOT NULL,          -- 'login' | 'link'
    citizen_id          INTEGER REFERENCES citizen_accounts(id),
    code_hash           TEXT NOT NULL,
    channel             TEXT NOT NULL,          -- 'sms' | 'email'
    destination_masked  TEXT NOT NULL,
    ip                  TEXT NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    consumed_at         TEXT,
    locked_until        TEXT
);
CREATE INDEX otp_contract ON otp_challenges (tenant_id, contract_id, created_at);
CREATE INDEX otp_ip ON otp_challenges (ip, created_at);

-- Append-only audit trail: who did what, when.
CREATE TABLE domain_events (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    occurred_at   TEXT NOT NULL,
    actor_kind    TEXT NOT NULL,               -- 'staff' | 'citizen' | 'system'
    actor_id      INTEGER,
    action        TEXT NOT NULL,
    subject_kind  TEXT,
    subject_id    INTEGER,
    data          TEXT NOT NULL,               -- JSON
    ip            TEXT
);
CREATE INDEX domain_events_subject ON domain_events (tenant_id, subject_kind, subject_id);
CREATE TRIGGER domain_events_no_update BEFORE UPDATE ON domain_events
BEGIN SELECT RAISE(ABORT, 'domain_events is append-only'); END;
CREATE TRIGGER domain_events_no_delete BEFORE DELETE ON domain_events
BEGIN SELECT RAISE(ABORT, 'domain_events is append-only'); END;

-- Transactional outbox: side effects written in the same transaction as the change
-- that causes them, delivered later by the dispatcher, at most once per dedupe_key.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    kind          TEXT NOT NULL,
    dedupe_key    TEXT NOT NULL,
    payload       TEXT NOT NULL,               -- JSON
    created_at    TEXT NOT NULL,
    available_at  TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    delivered_at  TEXT,
    last_error    TEXT,
    UNIQUE (tenant_id, dedupe_key)
);
CREATE INDEX outbox_pending ON outbox (delivered_at, available_at);
