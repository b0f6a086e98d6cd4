-- Row-level security: the backstop behind "every query is scoped by tenant_id".
-- The application runs as role supra_app (the pool does SET ROLE supra_app on connect)
-- and sets app.tenant_id per transaction (set_config(..., true)). A query that forgets
-- its tenant filter still sees only the current tenant's rows; with no tenant set it
-- sees nothing. FORCE makes the policies apply to the table owner as well.
DO $$
BEGIN
    CREATE ROLE supra_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

GRANT USAGE ON SCHEMA public TO supra_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO supra_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO supra_app;
-- The audit trail is append-only for the application.
REVOKE UPDATE, DELETE ON domain_events FROM supra_app;
-- Tenants are public metadata (name, hostname); writes are for migrations/seeding only.
REVOKE INSERT, UPDATE, DELETE ON tenants FROM supra_app;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['sectors','persons','addresses','tomas','contracts','meters',
        'readings','ledger_entries','citizen_accounts','citizen_contracts','staff_users',
        'sessions','otp_challenges','domain_events','outbox']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)
            WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)$p$, t);
    END LOOP;
END $$;
