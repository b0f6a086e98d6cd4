//! Loads a generated demo utility (`seed::Utility`) into the database as a new tenant.
//! Bulk multi-row inserts in one transaction per table batch; ids are assigned here so
//! rows can reference each other without a round trip per row.

use chrono::{NaiveDate, Utc};
use seed::Utility;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor};

use crate::bulk::batch;
use crate::{Db, Result, Scoped, TenantId, Tx, on};

/// Searchable text for a contract: everything staff may type to find it, normalised
/// (lower case, no accents) so "nuñez" finds "NÚÑEZ".
pub fn contract_search_text(parts: &[&str]) -> String {
    domain::normalize_search(&parts.join(" "))
}

/// What was loaded; enough to print the demo logins.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub tenant: TenantId,
    pub contracts: usize,
    pub readings: usize,
}

/// Create the tenant and insert the whole utility. Fails if the slug exists.
pub async fn load(db: &Db, u: &Utility, staff_password_hash: &str) -> Result<Loaded> {
    let now = Utc::now();
    // Tenants are written with the owner's privileges (the application role may only read them).
    let tenant = match db {
        Db::Sqlite { write, .. } => {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO tenants (slug, name, short_name, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(u.tenant.slug)
            .bind(u.tenant.name)
            .bind(u.tenant.short_name)
            .bind(now)
            .fetch_one(write)
            .await?
        }
        Db::Postgres(pool) => {
            let mut conn = sqlx::PgConnection::connect_with(&pool.connect_options()).await?;
            let id = sqlx::query_scalar::<_, i64>(
                "INSERT INTO tenants (slug, name, short_name, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(u.tenant.slug)
            .bind(u.tenant.name)
            .bind(u.tenant.short_name)
            .bind(now)
            .fetch_one(&mut conn)
            .await?;
            conn.close().await?;
            id
        }
    };
    let tenant = TenantId(tenant);
    let mut tx = owner_tx(db, tenant).await?;
    let t = tenant.0;

    let sector_base = next_id(&mut tx, "sectors").await?;
    let person_base = next_id(&mut tx, "persons").await?;
    let address_base = next_id(&mut tx, "addresses").await?;
    let toma_base = next_id(&mut tx, "tomas").await?;
    let contract_base = next_id(&mut tx, "contracts").await?;
    let meter_base = next_id(&mut tx, "meters").await?;

    batch(
        &mut tx,
        "sectors",
        &["id", "tenant_id", "code", "name", "municipio"],
        &u.sectors,
        |q, i, s| {
            q.push_i64(sector_base + i as i64)
                .push_i64(t)
                .push_str(&s.code)
                .push_str(&s.name)
                .push_str(s.municipio);
        },
    )
    .await?;
    batch(
        &mut tx,
        "persons",
        &[
            "id",
            "tenant_id",
            "full_name",
            "given_names",
            "surname1",
            "surname2",
            "phone",
            "email",
            "rfc",
            "curp",
            "created_at",
        ],
        &u.persons,
        |q, i, p| {
            q.push_i64(person_base + i as i64)
                .push_i64(t)
                .push_str(&p.full_name)
                .push_str(&p.given_names)
                .push_str(&p.surname1)
                .push_str(&p.surname2)
                .push_opt_str(p.phone.as_deref())
                .push_opt_str(p.email.as_deref())
                .push_opt_str(p.rfc.as_deref())
                .push_opt_str(p.curp.as_deref())
                .push_ts(now);
        },
    )
    .await?;
    batch(
        &mut tx,
        "addresses",
        &[
            "id",
            "tenant_id",
            "street",
            "ext_number",
            "int_number",
            "colonia",
            "municipio",
            "cp",
            "sector_id",
        ],
        &u.addresses,
        |q, i, a| {
            q.push_i64(address_base + i as i64)
                .push_i64(t)
                .push_str(&a.street)
                .push_str(&a.ext_number)
                .push_opt_str(a.int_number.as_deref())
                .push_str(&a.colonia)
                .push_str(a.municipio)
                .push_str(&a.cp)
                .push_i64(sector_base + a.sector as i64);
        },
    )
    .await?;
    batch(
        &mut tx,
        "tomas",
        &["id", "tenant_id", "address_id", "kind", "diameter_mm"],
        &u.tomas,
        |q, i, tm| {
            q.push_i64(toma_base + i as i64)
                .push_i64(t)
                .push_i64(address_base + tm.address as i64)
                .push_str(tm.kind)
                .push_i32(i32::from(tm.diameter_mm));
        },
    )
    .await?;

    // Meter serial per contract for the search text.
    let mut serial_of: Vec<Option<&str>> = vec![None; u.contracts.len()];
    for m in &u.meters {
        serial_of[m.contract] = Some(&m.serial);
    }
    let search: Vec<String> = u
        .contracts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let p = &u.persons[c.person];
            let a = &u.addresses[u.tomas[c.toma].address];
            contract_search_text(&[
                &c.number,
                &p.full_name,
                serial_of[i].unwrap_or(""),
                &a.street,
                &a.ext_number,
                &a.colonia,
                a.municipio,
                p.phone.as_deref().unwrap_or(""),
            ])
        })
        .collect();
    batch(
        &mut tx,
        "contracts",
        &[
            "id",
            "tenant_id",
            "number",
            "person_id",
            "toma_id",
            "use_type",
            "tariff_class",
            "status",
            "start_date",
            "vulnerable",
            "search_text",
            "created_at",
        ],
        &u.contracts,
        |q, i, c| {
            q.push_i64(contract_base + i as i64)
                .push_i64(t)
                .push_str(&c.number)
                .push_i64(person_base + c.person as i64)
                .push_i64(toma_base + c.toma as i64)
                .push_str(c.use_type)
                .push_str(c.tariff_class)
                .push_str(c.status)
                .push_date(c.start_date)
                .push_bool(c.vulnerable)
                .push_str(&search[i])
                .push_ts(now);
        },
    )
    .await?;
    batch(
        &mut tx,
        "meters",
        &[
            "id",
            "tenant_id",
            "contract_id",
            "serial",
            "make",
            "model",
            "diameter_mm",
            "digits",
            "multiplier",
            "installed_on",
            "smart",
            "active",
        ],
        &u.meters,
        |q, i, m| {
            q.push_i64(meter_base + i as i64)
                .push_i64(t)
                .push_i64(contract_base + m.contract as i64)
                .push_str(&m.serial)
                .push_str(m.make)
                .push_str(m.model)
                .push_i32(i32::from(m.diameter_mm))
                .push_i32(i32::from(m.digits))
                .push_i32(m.multiplier as i32)
                .push_date(m.installed_on)
                .push_bool(m.smart)
                .push_bool(true);
        },
    )
    .await?;
    batch(
        &mut tx,
        "readings",
        &[
            "tenant_id",
            "meter_id",
            "period",
            "read_at",
            "value_litres",
            "source",
            "quality",
            "created_at",
        ],
        &u.readings,
        |q, _i, r| {
            q.push_i64(t)
                .push_i64(meter_base + r.meter as i64)
                .push_i32(r.period.0 * 100 + r.period.1 as i32)
                .push_ts(r.read_at)
                .push_i64(r.value_litres)
                .push_str(r.source)
                .push_str(r.quality)
                .push_ts(now);
        },
    )
    .await?;
    batch(
        &mut tx,
        "ledger_entries",
        &[
            "tenant_id",
            "contract_id",
            "kind",
            "amount_centavos",
            "description",
            "occurred_on",
            "created_at",
        ],
        &u.opening_balances,
        |q, _i, b| {
            q.push_i64(t)
                .push_i64(contract_base + b.contract as i64)
                .push_str("saldo_inicial")
                .push_i64(b.centavos)
                .push_str("Adeudo anterior (sistema anterior)")
                .push_date(b.as_of)
                .push_ts(now);
        },
    )
    .await?;
    batch(
        &mut tx,
        "staff_users",
        &[
            "tenant_id",
            "email",
            "full_name",
            "role",
            "password_hash",
            "created_at",
        ],
        &u.staff,
        |q, _i, s| {
            q.push_i64(t)
                .push_str(&s.email)
                .push_str(&s.full_name)
                .push_str(s.role)
                .push_str(staff_password_hash)
                .push_ts(now);
        },
    )
    .await?;
    crate::repo::record_event(
        &mut tx,
        crate::repo::NewEvent {
            actor_kind: "system",
            actor_id: None,
            action: "tenant.seeded",
            subject_kind: Some("tenant"),
            subject_id: Some(t),
            data: serde_json::json!({"contracts": u.contracts.len(), "readings": u.readings.len()}),
            ip: None,
            now,
        },
    )
    .await?;
    if let Tx::Postgres(pg) = &mut tx.tx {
        for table in [
            "sectors",
            "persons",
            "addresses",
            "tomas",
            "contracts",
            "meters",
        ] {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            );
            pg.execute(sql.as_str()).await?;
        }
    }
    tx.commit().await?;
    Ok(Loaded {
        tenant,
        contracts: u.contracts.len(),
        readings: u.readings.len(),
    })
}

/// A write transaction with the owner's privileges (PostgreSQL: no `SET ROLE`), still
/// scoped to the tenant so row-level security accepts the rows.
async fn owner_tx(db: &Db, tenant: TenantId) -> Result<Scoped> {
    match db {
        Db::Sqlite { .. } => db.write(tenant).await,
        Db::Postgres(pool) => {
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(pool.connect_options().as_ref().clone())
                .await?;
            let mut tx = admin.begin().await?;
            sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
                .bind(tenant.0.to_string())
                .execute(&mut *tx)
                .await?;
            Ok(Scoped {
                tx: Tx::Postgres(tx),
                tenant,
            })
        }
    }
}

async fn next_id(tx: &mut Scoped, table: &str) -> Result<i64> {
    let sql = format!("SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM {table}");
    Ok(on!(tx, |c| sqlx::query_scalar::<_, i64>(&sql)
        .fetch_one(c)
        .await?))
}

/// Demo history only: record a payment of the full invoice total for about
/// `permille`/1000 of the invoices of `period` (chosen deterministically by contract),
/// paid on `paid_on`. Lets the demo show paid, partial and overdue bills.
pub async fn pay_demo_invoices(
    db: &Db,
    tenant: TenantId,
    period: i32,
    permille: i64,
    paid_on: NaiveDate,
) -> Result<u64> {
    let mut tx = db.write(tenant).await?;
    let t = tenant.0;
    const SQL: &str = "INSERT INTO ledger_entries
        (tenant_id, contract_id, kind, amount_centavos, description, occurred_on, created_at)
        SELECT tenant_id, contract_id, 'pago', -total_centavos, 'Pago en ventanilla (historial de demostración)', $3, $4
        FROM invoices WHERE tenant_id = $1 AND period = $2 AND total_centavos > 0
          AND (contract_id * 7919 + period) % 1000 < $5";
    let n = on!(tx, |c| sqlx::query(SQL)
        .bind(t)
        .bind(period)
        .bind(paid_on)
        .bind(Utc::now())
        .bind(permille)
        .execute(c)
        .await?
        .rows_affected());
    tx.commit().await?;
    Ok(n)
}
