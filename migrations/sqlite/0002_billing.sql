-- Billing (issue #3). Keep in step with migrations/postgres/0003_billing.sql.

-- Published tariff versions: the human-edited TOML file is the source of truth
-- (docs/tariffs.md); use type, class and valid_from are copied out for lookups.
CREATE TABLE tariffs (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    use_type      TEXT NOT NULL,
    tariff_class  TEXT NOT NULL,
    valid_from    TEXT NOT NULL,
    name          TEXT NOT NULL,
    source_toml   TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    created_by    INTEGER REFERENCES staff_users(id),
    UNIQUE (tenant_id, use_type, tariff_class, valid_from)
);

-- One batch run of a billing period (progress and summary for the staff page).
CREATE TABLE billing_runs (
    id                INTEGER PRIMARY KEY,
    tenant_id         INTEGER NOT NULL REFERENCES tenants(id),
    period            INTEGER NOT NULL,          -- YYYYMM
    status            TEXT NOT NULL,             -- 'en_curso' | 'terminada' | 'fallida'
    started_at        TEXT NOT NULL,
    finished_at       TEXT,
    started_by        INTEGER REFERENCES staff_users(id),
    contracts_total   INTEGER NOT NULL DEFAULT 0,
    contracts_done    INTEGER NOT NULL DEFAULT 0,
    invoices_issued   INTEGER NOT NULL DEFAULT 0,
    estimated         INTEGER NOT NULL DEFAULT 0,
    flagged           INTEGER NOT NULL DEFAULT 0,
    skipped           INTEGER NOT NULL DEFAULT 0,
    total_centavos    INTEGER NOT NULL DEFAULT 0,
    summary           TEXT NOT NULL DEFAULT '{}',  -- JSON: totals by use type
    error             TEXT
);
CREATE INDEX billing_runs_period ON billing_runs (tenant_id, period);

-- One invoice per contract per period; the unique key makes issuing idempotent.
CREATE TABLE invoices (
    id                         INTEGER PRIMARY KEY,
    tenant_id                  INTEGER NOT NULL REFERENCES tenants(id),
    contract_id                INTEGER NOT NULL REFERENCES contracts(id),
    period                     INTEGER NOT NULL,   -- YYYYMM
    folio                      TEXT NOT NULL,
    issued_on                  TEXT NOT NULL,
    due_date                   TEXT NOT NULL,
    cancelled                  INTEGER NOT NULL DEFAULT 0,
    use_type                   TEXT NOT NULL,
    tariff_class               TEXT NOT NULL,
    meter_id                   INTEGER REFERENCES meters(id),
    prev_reading_litres        INTEGER,
    prev_read_at               TEXT,
    curr_reading_litres        INTEGER,
    curr_read_at               TEXT,
    billed_litres              INTEGER NOT NULL,
    estimated                  INTEGER NOT NULL DEFAULT 0,
    -- Consumption carried to the next period, in litres: positive = measured but not
    -- yet billed (whole-m³ tariffs), negative = estimated m³ to true up.
    carry_litres               INTEGER NOT NULL DEFAULT 0,
    previous_balance_centavos  INTEGER NOT NULL,
    subtotal_centavos          INTEGER NOT NULL,
    tax_centavos               INTEGER NOT NULL,
    total_centavos             INTEGER NOT NULL,
    tariff_names               TEXT NOT NULL,
    run_id                     INTEGER REFERENCES billing_runs(id),
    cfdi_uuid                  TEXT,
    created_at                 TEXT NOT NULL,
    UNIQUE (tenant_id, contract_id, period),
    UNIQUE (tenant_id, folio)
);
CREATE INDEX invoices_period ON invoices (tenant_id, period);

CREATE TABLE invoice_lines (
    id                INTEGER PRIMARY KEY,
    tenant_id         INTEGER NOT NULL REFERENCES tenants(id),
    invoice_id        INTEGER NOT NULL REFERENCES invoices(id),
    seq               INTEGER NOT NULL,
    concept           TEXT NOT NULL,
    description       TEXT NOT NULL,
    quantity          TEXT NOT NULL,            -- exact decimal
    unit              TEXT NOT NULL,
    unit_price        TEXT,                     -- exact decimal
    amount_centavos   INTEGER NOT NULL,
    tax               TEXT NOT NULL,            -- 'iva16' | 'iva0' | 'exento' | 'no_objeto'
    tax_centavos      INTEGER NOT NULL,
    clave_prod_serv   TEXT NOT NULL,
    clave_unidad      TEXT NOT NULL,
    estimated         INTEGER NOT NULL DEFAULT 0,
    steps             TEXT NOT NULL,            -- JSON: the "¿Cómo se calculó?" rows
    UNIQUE (invoice_id, seq)
);

-- Staff adjustments and credit notes against an invoice (also posted to the ledger).
CREATE TABLE invoice_adjustments (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants(id),
    invoice_id       INTEGER NOT NULL REFERENCES invoices(id),
    kind             TEXT NOT NULL,             -- 'ajuste' | 'nota_credito'
    amount_centavos  INTEGER NOT NULL,          -- negative = in the customer's favour
    reason           TEXT NOT NULL,
    staff_id         INTEGER NOT NULL REFERENCES staff_users(id),
    created_at       TEXT NOT NULL
);
CREATE INDEX invoice_adjustments_invoice ON invoice_adjustments (tenant_id, invoice_id);

-- Consumption that was not billed blindly: negative, zero for months, implausible jump.
CREATE TABLE billing_reviews (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
    contract_id     INTEGER NOT NULL REFERENCES contracts(id),
    period          INTEGER NOT NULL,
    reason          TEXT NOT NULL,              -- 'negativo' | 'sin_consumo' | 'salto' | 'sin_historial'
    message         TEXT NOT NULL,
    measured_litres INTEGER,
    average_litres  INTEGER,
    status          TEXT NOT NULL,              -- 'abierta' | 'resuelta'
    created_at      TEXT NOT NULL,
    resolved_at     TEXT,
    resolved_by     INTEGER REFERENCES staff_users(id),
    resolution      TEXT,
    UNIQUE (tenant_id, contract_id, period)
);
CREATE INDEX billing_reviews_status ON billing_reviews (tenant_id, status);
