-- Payment references and provider events (issue #5: Conekta OXXO, SPEI and card).
-- Keep in step with migrations/postgres/0007_payment_orders.sql.

-- An order a citizen (or staff) asked a provider for: an OXXO reference, a SPEI
-- CLABE, a card charge. It is 'pendiente' until the provider reports it paid
-- ('confirmado', naming the payments_received row), expired ('vencido'), declined
-- ('rechazado') or cancelled. The citizen's idempotency key makes a double submit
-- one order.
CREATE TABLE payment_orders (
    id                 INTEGER PRIMARY KEY,
    tenant_id          INTEGER NOT NULL REFERENCES tenants(id),
    contract_id        INTEGER NOT NULL REFERENCES contracts(id),
    invoice_id         INTEGER REFERENCES invoices(id),
    channel            TEXT NOT NULL,       -- 'oxxo' | 'spei' | 'card' | 'codi'
    provider           TEXT NOT NULL,       -- 'conekta'
    provider_order_id  TEXT NOT NULL,
    amount_centavos    INTEGER NOT NULL CHECK (amount_centavos > 0),
    reference          TEXT,                -- OXXO reference or CLABE to pay to
    redirect_url       TEXT,                -- 3-D Secure page for a card charge
    expires_at         TEXT,
    status             TEXT NOT NULL,       -- 'pendiente' | 'confirmado' | 'vencido' | 'rechazado' | 'cancelado'
    failure            TEXT,                -- the provider's message when declined
    received_id        INTEGER REFERENCES payments_received(id),
    idempotency_key    TEXT NOT NULL,
    citizen_id         INTEGER REFERENCES citizen_accounts(id),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (tenant_id, provider, provider_order_id),
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX payment_orders_contract ON payment_orders (tenant_id, contract_id, id);

-- Every webhook a provider delivered, verified and stored before it is answered;
-- processed from the outbox. The provider's event id makes a re-delivery a no-op.
CREATE TABLE webhook_events (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    provider      TEXT NOT NULL,            -- 'conekta'
    event_id      TEXT NOT NULL,
    kind          TEXT NOT NULL,            -- e.g. 'order.paid'
    payload       TEXT NOT NULL,            -- the raw body (providers send no secrets in it)
    status        TEXT NOT NULL,            -- 'pendiente' | 'procesado' | 'ignorado'
    result        TEXT,
    received_at   TEXT NOT NULL,
    processed_at  TEXT,
    UNIQUE (tenant_id, provider, event_id)
);

-- The key Conekta signs webhooks with (public half; POST /webhook_keys).
CREATE TABLE conekta_settings (
    tenant_id           INTEGER PRIMARY KEY REFERENCES tenants(id),
    webhook_key_id      TEXT NOT NULL,
    webhook_public_key  TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

-- Contracts whose collection is stopped (a local flag until the legacy bridge, #7,
-- answers getDeudaContratoBloqueoCobro): no references are issued, and money that
-- arrives anyway waits for staff.
CREATE TABLE collection_blocks (
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    contract_id  INTEGER NOT NULL REFERENCES contracts(id),
    reason       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, contract_id)
);
