//! A customer's consumption for the charts of `/cuenta/consumo` (issue #6): per billing
//! period and per local day of one contract, and the average of its area (sector, or
//! colonia when the address has no sector). Everything is read from the aggregates the
//! ingest keeps (`reading_periods`, `reading_daily`), never from raw readings, and the
//! same SQL runs on SQLite and PostgreSQL.

use chrono::NaiveDate;
use sqlx::FromRow;

use crate::{Result, Scoped, on};

/// One billing period (`YYYYMM`) of a contract: the litres of all its meters (a
/// replaced meter's periods still count) and how many readings made them.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PeriodTotal {
    pub period: i32,
    pub litres: i64,
    pub readings: i64,
}

/// The contract's periods in `[from, to]` (`YYYYMM`), oldest first; periods without a
/// reading are absent.
pub async fn contract_periods(
    tx: &mut Scoped,
    contract_id: i64,
    from: i32,
    to: i32,
) -> Result<Vec<PeriodTotal>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT rp.period AS period,
            CAST(SUM(rp.litres) AS BIGINT) AS litres,
            CAST(SUM(rp.readings) AS BIGINT) AS readings
        FROM meters m
        JOIN reading_periods rp ON rp.tenant_id = m.tenant_id AND rp.meter_id = m.id
        WHERE m.tenant_id = $1 AND m.contract_id = $2
          AND rp.period >= $3 AND rp.period <= $4
        GROUP BY rp.period ORDER BY rp.period";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(contract_id)
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await?))
}

/// One local day of a contract's consumption (smart meters report several readings a
/// day).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct DayTotal {
    pub day: NaiveDate,
    pub litres: i64,
    pub readings: i64,
}

/// The contract's days in `[from, to]`, oldest first; days without a reading are absent.
pub async fn contract_days(
    tx: &mut Scoped,
    contract_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DayTotal>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT d.day AS day,
            CAST(SUM(d.litres) AS BIGINT) AS litres,
            CAST(SUM(d.readings) AS BIGINT) AS readings
        FROM meters m
        JOIN reading_daily d ON d.tenant_id = m.tenant_id AND d.meter_id = m.id
        WHERE m.tenant_id = $1 AND m.contract_id = $2 AND d.day >= $3 AND d.day <= $4
        GROUP BY d.day ORDER BY d.day";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(contract_id)
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await?))
}

/// What a contract is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Area {
    /// The utility's sector of the address (its name).
    Sector(String),
    /// The colonia (and municipio) of the address, when it has no sector.
    Colonia { colonia: String, municipio: String },
}

/// The area of a contract's service address.
pub async fn area_of(tx: &mut Scoped, contract_id: i64) -> Result<Option<Area>> {
    let t = tx.tenant().0;
    const SQL: &str = "SELECT s.name, a.colonia, a.municipio
        FROM contracts c
        JOIN tomas tm ON tm.tenant_id = c.tenant_id AND tm.id = c.toma_id
        JOIN addresses a ON a.tenant_id = tm.tenant_id AND a.id = tm.address_id
        LEFT JOIN sectors s ON s.tenant_id = a.tenant_id AND s.id = a.sector_id
        WHERE c.tenant_id = $1 AND c.id = $2";
    let row: Option<(Option<String>, String, String)> = on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(contract_id)
        .fetch_optional(c)
        .await?);
    Ok(row.map(|(sector, colonia, municipio)| match sector {
        Some(name) => Area::Sector(name),
        None => Area::Colonia { colonia, municipio },
    }))
}

/// One period of the area's consumption: the sum over the meters that have the period
/// and how many they are (the average is `litres / meters`).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AreaPeriod {
    pub period: i32,
    pub litres: i64,
    pub meters: i64,
}

impl AreaPeriod {
    /// The average per meter in whole litres (half away from zero).
    pub fn average(&self) -> i64 {
        if self.meters <= 0 {
            return 0;
        }
        let (sum, n) = (i128::from(self.litres), i128::from(self.meters));
        let avg = (2 * sum + n * sum.signum()) / (2 * n);
        i64::try_from(avg).unwrap_or(if avg < 0 { i64::MIN } else { i64::MAX })
    }
}

/// Per period in `[from, to]`: the consumption of the other contracts with the same
/// use (doméstico, comercial…) in the contract's area — its sector, or its colonia and
/// municipio when the address has no sector. Periods with fewer than `min_meters`
/// meters are left out, so an average never reveals one neighbour's consumption.
pub async fn area_periods(
    tx: &mut Scoped,
    contract_id: i64,
    from: i32,
    to: i32,
    min_meters: i64,
) -> Result<Vec<AreaPeriod>> {
    let t = tx.tenant().0;
    const SQL: &str = "WITH me AS (
            SELECT a.sector_id, a.colonia, a.municipio, c.use_type
            FROM contracts c
            JOIN tomas tm ON tm.tenant_id = c.tenant_id AND tm.id = c.toma_id
            JOIN addresses a ON a.tenant_id = tm.tenant_id AND a.id = tm.address_id
            WHERE c.tenant_id = $1 AND c.id = $2)
        SELECT rp.period AS period,
            CAST(SUM(rp.litres) AS BIGINT) AS litres,
            CAST(COUNT(*) AS BIGINT) AS meters
        FROM me
        JOIN addresses a ON a.tenant_id = $1 AND (CASE WHEN me.sector_id IS NOT NULL
                THEN a.sector_id = me.sector_id
                ELSE a.colonia = me.colonia AND a.municipio = me.municipio END)
        JOIN tomas tm ON tm.tenant_id = a.tenant_id AND tm.address_id = a.id
        JOIN contracts c ON c.tenant_id = tm.tenant_id AND c.toma_id = tm.id
            AND c.use_type = me.use_type AND c.id <> $2
        JOIN meters m ON m.tenant_id = c.tenant_id AND m.contract_id = c.id
        JOIN reading_periods rp ON rp.tenant_id = m.tenant_id AND rp.meter_id = m.id
            AND rp.period >= $3 AND rp.period <= $4
        GROUP BY rp.period
        HAVING COUNT(*) >= $5
        ORDER BY rp.period";
    Ok(on!(tx, |c| sqlx::query_as(SQL)
        .bind(t)
        .bind(contract_id)
        .bind(from)
        .bind(to)
        .bind(min_meters)
        .fetch_all(c)
        .await?))
}

#[cfg(test)]
mod tests {
    use super::AreaPeriod;

    #[test]
    fn average_rounds_half_away_from_zero() {
        let avg = |litres, meters| {
            AreaPeriod {
                period: 202611,
                litres,
                meters,
            }
            .average()
        };
        assert_eq!(avg(10, 4), 3); // 2.5 → 3
        assert_eq!(avg(9, 4), 2); // 2.25 → 2
        assert_eq!(avg(-10, 4), -3);
        assert_eq!(avg(12_000, 5), 2_400);
        assert_eq!(avg(7, 0), 0);
    }
}
