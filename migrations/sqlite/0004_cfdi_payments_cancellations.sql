-- CFDI payment complements and cancellations (issue #4). Keep in step with
-- migrations/postgres/0005_cfdi_payments_cancellations.sql.

-- A payment applied to one invoice. Staff record them at the counter until the payments
-- engine (#5) applies provider payments here too. NumParcialidad and the balance before
-- the payment are fixed when the payment is recorded, so the Complemento de Pago of each
-- payment chains: ImpSaldoAnt − ImpPagado = ImpSaldoInsoluto = next ImpSaldoAnt.
CREATE TABLE invoice_payments (
    id                       INTEGER PRIMARY KEY,
    tenant_id                INTEGER NOT NULL REFERENCES tenants(id),
    contract_id              INTEGER NOT NULL REFERENCES contracts(id),
    invoice_id               INTEGER NOT NULL REFERENCES invoices(id),
    ledger_entry_id          INTEGER NOT NULL REFERENCES ledger_entries(id),
    amount_centavos          INTEGER NOT NULL CHECK (amount_centavos > 0),
    forma_pago               TEXT NOT NULL,      -- c_FormaPago
    paid_at                  TEXT NOT NULL,      -- when the money was received
    num_operacion            TEXT,
    num_parcialidad          INTEGER NOT NULL,
    saldo_anterior_centavos  INTEGER NOT NULL,
    idempotency_key          TEXT NOT NULL,
    recorded_by              INTEGER REFERENCES staff_users(id),
    created_at               TEXT NOT NULL,
    UNIQUE (tenant_id, invoice_id, num_parcialidad),
    UNIQUE (tenant_id, idempotency_key)
);

-- The CFDI of type P issued for a payment.
ALTER TABLE cfdi_documents ADD COLUMN payment_id INTEGER REFERENCES invoice_payments(id);
CREATE UNIQUE INDEX cfdi_documents_payment ON cfdi_documents (tenant_id, payment_id);

-- Requests to cancel a stamped CFDI, with SAT's acuse and the state SAT reports.
CREATE TABLE cfdi_cancellations (
    id                 INTEGER PRIMARY KEY,
    tenant_id          INTEGER NOT NULL REFERENCES tenants(id),
    document_id        INTEGER NOT NULL REFERENCES cfdi_documents(id),
    motivo             TEXT NOT NULL,       -- 01 | 02 | 03 | 04
    folio_sustitucion  TEXT,                -- UUID of the replacement (motivo 01)
    note               TEXT NOT NULL,       -- staff's reason in their own words
    -- 'solicitada' (queued to send) | 'en_proceso' (SAT has it) | 'cancelado' |
    -- 'rechazado' (receptor or SAT refused; the CFDI stays valid) | 'error' (the PAC
    -- refused the request; see pac_code)
    status             TEXT NOT NULL,
    sat_estatus        TEXT,                -- SAT's EstatusCancelacion, as reported
    acuse_xml          TEXT,                -- exactly as received
    pac_code           TEXT,
    pac_message        TEXT,
    attempts           INTEGER NOT NULL DEFAULT 0,
    requested_by       INTEGER REFERENCES staff_users(id),
    requested_at       TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
-- At most one open request per document.
CREATE UNIQUE INDEX cfdi_cancellations_open ON cfdi_cancellations (tenant_id, document_id)
    WHERE status IN ('solicitada', 'en_proceso');
CREATE INDEX cfdi_cancellations_status ON cfdi_cancellations (tenant_id, status);
