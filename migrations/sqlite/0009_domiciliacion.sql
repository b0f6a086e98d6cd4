-- Domiciliación (issue #5): the payer's signed mandate to debit their account, the
-- monthly collection file sent to the bank and one item per debit asked for.
-- Keep in step with migrations/postgres/0010_domiciliacion.sql.
CREATE TABLE debit_mandates (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
    contract_id     INTEGER NOT NULL REFERENCES contracts(id),
    clabe           TEXT NOT NULL,            -- 18 digits, check digit verified
    holder          TEXT NOT NULL,            -- as the bank expects it (ASCII capitals)
    max_centavos    INTEGER NOT NULL CHECK (max_centavos > 0),
    signed_on       TEXT NOT NULL,            -- YYYY-MM-DD
    status          TEXT NOT NULL,            -- 'activo' | 'baja'
    baja_reason     TEXT,
    created_by      INTEGER REFERENCES staff_users(id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
-- One active mandate per contract.
CREATE UNIQUE INDEX debit_mandates_active ON debit_mandates (tenant_id, contract_id) WHERE status = 'activo';

CREATE TABLE debit_batches (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
    month           TEXT NOT NULL,            -- YYYY-MM
    seq             INTEGER NOT NULL,         -- 1 = the month's batch, 2… = later retries
    created_at      TEXT NOT NULL,
    charge_date     TEXT NOT NULL,            -- YYYY-MM-DD, in the file's header
    layout          TEXT NOT NULL,            -- e.g. 'SUPRA-DOM-1'
    file_name       TEXT NOT NULL,
    file_text       TEXT NOT NULL,            -- exactly what was handed to the bank
    item_count      INTEGER NOT NULL,
    total_centavos  INTEGER NOT NULL,
    status          TEXT NOT NULL,            -- 'generado' | 'resultados'
    created_by      INTEGER REFERENCES staff_users(id)
);
CREATE UNIQUE INDEX debit_batches_month ON debit_batches (tenant_id, month, seq);

CREATE TABLE debit_items (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
    batch_id        INTEGER NOT NULL REFERENCES debit_batches(id),
    mandate_id      INTEGER NOT NULL REFERENCES debit_mandates(id),
    contract_id     INTEGER NOT NULL REFERENCES contracts(id),
    amount_centavos INTEGER NOT NULL CHECK (amount_centavos > 0),
    attempt         INTEGER NOT NULL,         -- 1 = first try
    retry_of        INTEGER REFERENCES debit_items(id),
    reference       TEXT NOT NULL,            -- ours, echoed back by the bank
    status          TEXT NOT NULL,            -- 'pendiente' | 'cobrado' | 'rechazado' | 'reintento' | 'omitido'
    result_code     TEXT,
    result_message  TEXT,
    received_id     INTEGER REFERENCES payments_received(id),
    retry_on        TEXT,                     -- YYYY-MM-DD, for 'reintento'
    updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX debit_items_reference ON debit_items (tenant_id, reference);
CREATE INDEX debit_items_batch ON debit_items (tenant_id, batch_id);
CREATE INDEX debit_items_mandate ON debit_items (tenant_id, mandate_id);
