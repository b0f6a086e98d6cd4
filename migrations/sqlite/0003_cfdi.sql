-- CFDI 4.0 (issue #4). Keep in step with migrations/postgres/0004_cfdi.sql.

-- The utility as issuer: fiscal data and series. One row per tenant.
CREATE TABLE cfdi_issuers (
    tenant_id         INTEGER PRIMARY KEY REFERENCES tenants(id),
    rfc               TEXT NOT NULL,
    nombre            TEXT NOT NULL,      -- as registered with SAT, without "SA DE CV"
    regimen_fiscal    TEXT NOT NULL,      -- c_RegimenFiscal
    lugar_expedicion  TEXT NOT NULL,      -- c_CodigoPostal
    serie_ingreso     TEXT NOT NULL,
    serie_egreso      TEXT NOT NULL,
    serie_pago        TEXT NOT NULL,
    -- true: customers without datos fiscales go into a monthly factura global;
    -- false: each of their bills gets its own CFDI to XAXX010101000.
    factura_global    INTEGER NOT NULL DEFAULT 0,
    updated_at        TEXT NOT NULL
);

-- A customer's datos fiscales (from their Constancia de Situación Fiscal).
CREATE TABLE fiscal_profiles (
    id                INTEGER PRIMARY KEY,
    tenant_id         INTEGER NOT NULL REFERENCES tenants(id),
    contract_id       INTEGER NOT NULL REFERENCES contracts(id),
    rfc               TEXT NOT NULL,
    nombre            TEXT NOT NULL,
    regimen_fiscal    TEXT NOT NULL,
    domicilio_fiscal  TEXT NOT NULL,      -- c_CodigoPostal
    uso_cfdi          TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (tenant_id, contract_id)
);

-- Next folio per series; taken inside the transaction that stores the document.
CREATE TABLE cfdi_folios (
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    serie       TEXT NOT NULL,
    next_folio  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, serie)
);

-- Every CFDI the utility issued. The sealed XML is stored before any PAC call; the
-- stamped XML is stored exactly as the PAC returned it.
CREATE TABLE cfdi_documents (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
    tipo            TEXT NOT NULL,        -- 'I' | 'E' | 'P'
    invoice_id      INTEGER REFERENCES invoices(id),
    period          INTEGER NOT NULL,     -- YYYYMM of the bill (or of the payment)
    serie           TEXT NOT NULL,
    folio           TEXT NOT NULL,        -- the bill's folio for tipo I; a series number otherwise
    fecha           TEXT NOT NULL,        -- AAAA-MM-DDThh:mm:ss, issuer's local time
    receptor_rfc    TEXT NOT NULL,
    total_centavos  INTEGER NOT NULL,
    status          TEXT NOT NULL,        -- 'sellado' | 'timbrado' | 'rechazado' | 'cancelacion_en_proceso' | 'cancelado'
    sealed_xml      TEXT NOT NULL,
    stamped_xml     TEXT,
    uuid            TEXT,
    stamped_at      TEXT,
    pac_code        TEXT,
    pac_message     TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (tenant_id, serie, folio),
    UNIQUE (tenant_id, tipo, invoice_id)
);
CREATE INDEX cfdi_documents_period ON cfdi_documents (tenant_id, period);
CREATE INDEX cfdi_documents_status ON cfdi_documents (tenant_id, status);

-- Bills covered by a factura global (one row per bill; a bill is in at most one).
CREATE TABLE cfdi_global_items (
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    document_id  INTEGER NOT NULL REFERENCES cfdi_documents(id),
    invoice_id   INTEGER NOT NULL REFERENCES invoices(id),
    PRIMARY KEY (tenant_id, invoice_id)
);
