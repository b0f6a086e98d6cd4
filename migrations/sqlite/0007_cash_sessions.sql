-- Ventanilla (issue #5): a cashier's session at the office counter, from opening with a
-- float to the corte de caja. Keep in step with migrations/postgres/0008_cash_sessions.sql.
CREATE TABLE cash_sessions (
    id                      INTEGER PRIMARY KEY,
    tenant_id               INTEGER NOT NULL REFERENCES tenants(id),
    staff_id                INTEGER NOT NULL REFERENCES staff_users(id),
    opened_at               TEXT NOT NULL,
    opening_float_centavos  INTEGER NOT NULL CHECK (opening_float_centavos >= 0),
    status                  TEXT NOT NULL,      -- 'abierta' | 'cerrada'
    closed_at               TEXT,
    expected_cash_centavos  INTEGER,            -- float + cash taken
    counted_cash_centavos   INTEGER,            -- what the cashier counted at the corte
    discrepancy_centavos    INTEGER,            -- counted − expected
    note                    TEXT
);
-- One open session per cashier.
CREATE UNIQUE INDEX cash_sessions_open ON cash_sessions (tenant_id, staff_id) WHERE status = 'abierta';

-- Counter payments belong to the session that took them.
ALTER TABLE payments_received ADD COLUMN cash_session_id INTEGER REFERENCES cash_sessions(id);
CREATE INDEX payments_received_session ON payments_received (tenant_id, cash_session_id);
