-- Payments received from providers (issue #5). Keep in step with
-- migrations/postgres/0006_payments_received.sql.

-- Every payment a provider reports, once: the provider's event/abono id is the dedupe
-- key. Applied ones name their ledger entry (and their parts in invoice_payments);
-- unmatched ones (unknown CLABE or reference) wait for staff with contract_id NULL.
CREATE TABLE payments_received (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants(id),
    channel          TEXT NOT NULL,        -- 'spei' | 'oxxo' | 'card' | 'codi' | …
    dedupe_key       TEXT NOT NULL,        -- e.g. 'stp:3091264', 'conekta:evt_…'
    contract_id      INTEGER REFERENCES contracts(id),
    amount_centavos  INTEGER NOT NULL CHECK (amount_centavos > 0),
    received_at      TEXT NOT NULL,
    reference        TEXT NOT NULL,        -- the CLABE or payment reference it came to
    payer            TEXT NOT NULL,
    status           TEXT NOT NULL,        -- 'aplicado' | 'sin_asignar'
    reason           TEXT,                 -- why it is unmatched
    ledger_entry_id  INTEGER REFERENCES ledger_entries(id),
    payload          TEXT NOT NULL,        -- the provider's message as received (no secrets)
    created_at       TEXT NOT NULL,
    UNIQUE (tenant_id, dedupe_key)
);
CREATE INDEX payments_received_status ON payments_received (tenant_id, status);

-- Per-utility payment settings: the 10-digit STP prefix of its CLABEs referenciadas.
CREATE TABLE payment_settings (
    tenant_id   INTEGER PRIMARY KEY REFERENCES tenants(id),
    stp_prefix  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
