//! The citizen's meter, server side (issue #6): the reading form and its receipt,
//! `POST /cuenta/lectura` (multipart, with or without JavaScript, possibly a reading
//! the phone kept offline and sends later — once per idempotency key), "Mi consumo"
//! from the aggregates (`db::consumption`) and the dashboard's alerts. Thin:
//! authenticate, call `metering` / `db`, map errors, format for es-MX.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Multipart, Request, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::America::Mexico_City;
use metering::anomalies::{Kind, shift_period};

use super::bills::{handler_error, peer_of};
use super::*;

/// Periods on the chart: the current one and the 12 before it.
const PERIODS_SHOWN: i32 = 13;
/// Days on the daily chart of a smart meter.
const DAYS_SHOWN: i64 = 30;
/// Fewest neighbours whose average is shown (an average of one or two homes would
/// reveal their consumption).
const MIN_NEIGHBOURS: i64 = 5;

const WEEKDAYS: [&str; 7] = [
    "lunes",
    "martes",
    "miércoles",
    "jueves",
    "viernes",
    "sábado",
    "domingo",
];

/// A reading form posted without JavaScript that was refused: rendered again (422)
/// with the message next to its field and what was typed.
#[derive(Debug, Clone)]
pub struct SelfReadEcho {
    pub error: FieldMessage,
    pub lectura: String,
    pub fecha: String,
}

/// `t` as a `datetime-local` value in the utility's time zone.
fn local_input(t: DateTime<Utc>) -> String {
    t.with_timezone(&Mexico_City)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

fn long_period(p: i32) -> String {
    let m = usize::try_from(p % 100 - 1).unwrap_or(0).min(11);
    format!("{} {}", domain::MONTHS_ES[m], p / 100)
}

fn long_day(d: NaiveDate) -> String {
    format!(
        "{} {} de {}",
        WEEKDAYS[d.weekday().num_days_from_monday() as usize],
        d.day(),
        domain::MONTHS_ES[d.month0() as usize]
    )
}

/// `1350` → `"1,350 litros"`.
fn litres_label(l: i64) -> String {
    let s = l.unsigned_abs().to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3 + 8);
    if l < 0 {
        out.push('-');
    }
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(if l.abs() == 1 { " litro" } else { " litros" });
    out
}

/// Bar height of `v` relative to `max`, 0–1000.
fn height(v: i64, max: i64) -> u16 {
    u16::try_from((v.max(0) * 1000 / max.max(1)).clamp(0, 1000)).unwrap_or(0)
}

// ---------------------------------------------------------------- the form

pub async fn form() -> Result<SelfReadForm, AppError> {
    let echo = use_context::<SelfReadEcho>();
    let (_, contract_id, r) = citizen().await?;
    let mut tx = r.st.db.read(r.tenant).await?;
    let Some(a) = repo::account_by_id(&mut tx, contract_id).await? else {
        return fail(AppError::NotFound);
    };
    let meter = repo::meters_of_contract(&mut tx, contract_id)
        .await?
        .into_iter()
        .next();
    let last = match &meter {
        Some(m) => repo::recent_readings(&mut tx, m.id, 10)
            .await?
            .into_iter()
            .find(|rd| db::metering::MEASURED.contains(&rd.quality.as_str())),
        None => None,
    };
    drop(tx);
    let now = Utc::now();
    let now_local = local_input(now);
    let (lectura, fecha, error) = match echo {
        Some(e) => (
            e.lectura,
            if e.fecha.trim().is_empty() {
                now_local.clone()
            } else {
                e.fecha
            },
            Some(e.error),
        ),
        None => (String::new(), now_local.clone(), None),
    };
    Ok(SelfReadForm {
        contract_id,
        number: a.number,
        meter_serial: meter.map(|m| m.serial),
        last_reading: last.map(|rd| {
            format!(
                "{} el {}",
                m3_label(rd.value_litres),
                date_label(rd.read_at)
            )
        }),
        clave: uuid::Uuid::new_v4().to_string(),
        now_local,
        oldest_local: local_input(now - Duration::days(MAX_AGE_DAYS)),
        lectura,
        fecha,
        error,
    })
}

pub async fn receipt(clave: String) -> Result<SelfReadReceipt, AppError> {
    let (citizen_id, _, r) = citizen().await?;
    let mut tx = r.st.db.read(r.tenant).await?;
    let Some(row) = db::metering::self_read_by_key(&mut tx, clave.trim()).await? else {
        return fail(AppError::NotFound);
    };
    // Someone else's key says nothing.
    if !repo::citizen_has_contract(&mut tx, citizen_id, row.contract_id).await? {
        return fail(AppError::NotFound);
    }
    let contract = repo::account_by_id(&mut tx, row.contract_id)
        .await?
        .map(|a| a.number)
        .unwrap_or_default();
    Ok(SelfReadReceipt {
        accepted: row.outcome == "aceptada",
        message: row.message.unwrap_or_default(),
        contract,
        value: m3_label(row.litres),
        date: auth::format_local(row.read_at),
    })
}

// ---------------------------------------------------------------- POST /cuenta/lectura

/// The fields of the posted form, as sent.
#[derive(Debug, Default)]
struct Posted {
    clave: String,
    contrato: String,
    lectura: String,
    fecha: String,
    foto: Option<(Vec<u8>, String)>,
}

/// Read the multipart form. The fields read before a failure are kept (to show the
/// form again with what was typed).
async fn read_form(req: Request) -> (Posted, Result<(), AppError>) {
    let mut p = Posted::default();
    let Ok(mut multipart) =
        <Multipart as axum::extract::FromRequest<()>>::from_request(req, &()).await
    else {
        return (
            p,
            Err(AppError::invalid(
                "lectura",
                "Envía la lectura desde el formulario de la página.",
            )),
        );
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => return (p, Err(too_big())),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "foto" {
            let kind = field.content_type().unwrap_or("").to_string();
            match field.bytes().await {
                Ok(b) if b.is_empty() => {}
                Ok(b) => p.foto = Some((b.to_vec(), kind)),
                Err(_) => return (p, Err(too_big())),
            }
            continue;
        }
        let Ok(text) = field.text().await else {
            return (p, Err(too_big()));
        };
        match name.as_str() {
            "clave" => p.clave = text,
            "contrato" => p.contrato = text,
            "lectura" => p.lectura = text,
            "fecha" => p.fecha = text,
            _ => {}
        }
    }
    (p, Ok(()))
}

fn too_big() -> AppError {
    AppError::invalid("foto", "La foto pesa más de 5 MB; toma una más ligera.")
}

/// When the reading was taken: a `datetime-local` value (the utility's local time) or
/// RFC 3339 (the app converts the phone's time). Empty: now.
fn taken_at(s: &str) -> Result<Option<DateTime<Utc>>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let local = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .and_then(|n| Mexico_City.from_local_datetime(&n).earliest());
    match local {
        Some(t) => Ok(Some(t.with_timezone(&Utc))),
        None => Err(AppError::invalid(
            "fecha",
            "Escribe la fecha y la hora de la lectura, por ejemplo 24/11/2026 10:15.",
        )),
    }
}

/// Check the post and hand it to the engine (which answers the same for the same key).
async fn record(
    st: &AppState,
    r: &Req,
    citizen_id: i64,
    active: i64,
    p: &Posted,
) -> Result<metering::self_read::Receipt, AppError> {
    // A reading kept offline names the contract it was taken for (the person may have
    // switched contracts since); it must be one of theirs.
    let contract_id = match p.contrato.trim() {
        "" => active,
        s => {
            let id = s.parse::<i64>().map_err(|_| {
                AppError::invalid("contrato", "El contrato de la lectura no es válido.")
            })?;
            if id != active {
                let mut tx = st.db.read(r.tenant).await?;
                if !repo::citizen_has_contract(&mut tx, citizen_id, id).await? {
                    return Err(AppError::invalid(
                        "contrato",
                        "Esta lectura es de un contrato que no está en tu cuenta.",
                    ));
                }
            }
            id
        }
    };
    let m3 = M3::parse(&p.lectura).map_err(|e| AppError::invalid(&e.field, e.message))?;
    let litres = u64::try_from(m3.litres())
        .map_err(|_| AppError::invalid("lectura", "La lectura no puede ser negativa."))?;
    let taken_at = taken_at(&p.fecha)?;
    let receipt = metering::self_read::submit(
        &st.db,
        r.tenant,
        metering::self_read::Submission {
            key: &p.clave,
            contract_id,
            litres,
            taken_at,
            photo: p.foto.as_ref().map(|(b, t)| (b.as_slice(), t.as_str())),
        },
        Utc::now(),
    )
    .await?;
    Ok(receipt)
}

fn wants_json(h: &HeaderMap) -> bool {
    h.get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// `{"error": "…", "campo": "lectura"}` with the error's status (4xx for bad input).
fn json_error(e: &AppError) -> Response {
    let campo = match e {
        AppError::Invalid { field, .. } => serde_json::Value::from(field.as_str()),
        _ => serde_json::Value::Null,
    };
    json_response(
        StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        serde_json::json!({ "error": e.to_string(), "campo": campo }),
    )
}

fn receipt_url(key: &str) -> String {
    format!(
        "{SELF_READ_URL}/recibida?clave={}",
        urlencoding::encode(key.trim())
    )
}

/// The reading page rendered again for a form posted without JavaScript, with the
/// error next to its field, as 422.
async fn form_again(st: AppState, mut h: HeaderMap, echo: SelfReadEcho) -> Response {
    h.remove(header::CONTENT_TYPE);
    h.remove(header::CONTENT_LENGTH);
    let opts = st.leptos_options.clone();
    let render = leptos_axum::render_app_async_with_context(
        move || {
            provide_context(st.clone());
            provide_context(echo.clone());
        },
        move || crate::shell(opts.clone()),
    );
    let mut page = Request::new(Body::empty());
    *page.uri_mut() = Uri::from_static(SELF_READ_URL);
    *page.headers_mut() = h;
    let mut res = render(page).await;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    res
}

/// `POST /cuenta/lectura` (multipart: `clave`, `contrato`, `lectura` in m³, `fecha`,
/// `foto`): the signed-in citizen's reading. With `Accept: application/json` (the app,
/// the service worker sending what the phone kept): 200 with the receipt, or the error
/// with its field (422 for a refusal, which is final; the same key always gets the
/// same answer). A plain form post: 303 to the receipt, or the form again with the
/// message next to its field (422).
pub async fn submit(State(st): State<AppState>, req: Request) -> Response {
    let h = req.headers().clone();
    let json = wants_json(&h);
    let r = Req::from_headers(st.clone(), &h, peer_of(&req));
    let (citizen_id, active) = match citizen_of(&r).await {
        Ok(c) => c,
        Err(e) if json => return json_error(&e),
        Err(e) => return handler_error(e, &h, "/entrar"),
    };
    let (posted, read) = read_form(req).await;
    let outcome = match read {
        Ok(()) => record(&st, &r, citizen_id, active, &posted).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(receipt) => {
            let url = receipt_url(&posted.clave);
            if json {
                json_response(
                    StatusCode::OK,
                    serde_json::json!({
                        "id": receipt.id,
                        "aceptada": receipt.accepted,
                        "mensaje": receipt.message,
                        "lectura": m3_label(receipt.litres),
                        "fecha": auth::format_local(receipt.read_at),
                        "desde_anterior": receipt.since_last.map(m3_label),
                        "recibo": url,
                    }),
                )
            } else {
                (StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response()
            }
        }
        Err(e) if json => json_error(&e),
        Err(AppError::Invalid { field, message }) => {
            let echo = SelfReadEcho {
                error: FieldMessage { field, message },
                lectura: posted.lectura,
                fecha: posted.fecha,
            };
            form_again(st, h, echo).await
        }
        Err(e) => handler_error(e, &h, "/entrar"),
    }
}

// ---------------------------------------------------------------- Mi consumo

pub async fn consumption() -> Result<ConsumptionView, AppError> {
    let (_, contract_id, r) = citizen().await?;
    let now = Utc::now();
    let current = metering::record::period_of(now);
    let first = shift_period(current, -(PERIODS_SHOWN - 1));
    let today = metering::record::local_day(now);
    let mut tx = r.st.db.read(r.tenant).await?;
    let Some(a) = repo::account_by_id(&mut tx, contract_id).await? else {
        return fail(AppError::NotFound);
    };
    let meters = repo::meters_of_contract(&mut tx, contract_id).await?;
    let own =
        db::consumption::contract_periods(&mut tx, contract_id, shift_period(first, -12), current)
            .await?;
    let area = db::consumption::area_of(&mut tx, contract_id).await?;
    let area_rows =
        db::consumption::area_periods(&mut tx, contract_id, first, current, MIN_NEIGHBOURS).await?;
    let days = if meters.iter().any(|m| m.smart) {
        let from = today - Duration::days(DAYS_SHOWN - 1);
        Some(db::consumption::contract_days(&mut tx, contract_id, from, today).await?)
    } else {
        None
    };
    drop(tx);
    let mut v = build_consumption(
        current,
        &own,
        area.as_ref(),
        &area_rows,
        days.as_deref().map(|d| (today, d)),
    );
    v.contract_id = contract_id;
    v.number = a.number;
    v.has_meter = !meters.is_empty();
    v.fetched_at = auth::format_local(now);
    Ok(v)
}

fn area_label(a: &db::consumption::Area) -> String {
    match a {
        db::consumption::Area::Sector(name) => format!("tus vecinos de {name}"),
        db::consumption::Area::Colonia { colonia, .. } => {
            format!("tus vecinos de la colonia {colonia}")
        }
    }
}

/// The view from the aggregates: the 13 periods ending at `current` (with the same
/// period a year earlier and the area's average), the comparison sentences and the
/// daily bars. Pure (the caller fills in the contract).
fn build_consumption(
    current: i32,
    own: &[db::consumption::PeriodTotal],
    area: Option<&db::consumption::Area>,
    area_rows: &[db::consumption::AreaPeriod],
    days: Option<(NaiveDate, &[db::consumption::DayTotal])>,
) -> ConsumptionView {
    let own: HashMap<i32, i64> = own.iter().map(|p| (p.period, p.litres)).collect();
    let avg: HashMap<i32, i64> = area_rows.iter().map(|p| (p.period, p.average())).collect();
    let periods: Vec<i32> = (0..PERIODS_SHOWN)
        .rev()
        .map(|back| shift_period(current, -back))
        .collect();
    let max = periods
        .iter()
        .flat_map(|p| [own.get(p), avg.get(p)])
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let area_label = area.filter(|_| !avg.is_empty()).map(area_label);
    let rows: Vec<ConsumptionPeriod> = periods
        .iter()
        .map(|&p| ConsumptionPeriod {
            label: period_label(p),
            long_label: long_period(p),
            current: p == current,
            m3: own.get(&p).map(|l| m3_label(*l)),
            height: own.get(&p).map(|l| height(*l, max)).unwrap_or(0),
            last_year: own.get(&shift_period(p, -12)).map(|l| m3_label(*l)),
            area: avg.get(&p).map(|l| m3_label(*l)),
            area_height: avg.get(&p).map(|l| height(*l, max)),
        })
        .collect();

    let with_data: Vec<(i32, i64)> = periods
        .iter()
        .filter_map(|p| own.get(p).map(|l| (*p, *l)))
        .collect();
    let range = format!(
        "Consumo de agua por periodo, de {} a {}.",
        long_period(periods[0]),
        long_period(current)
    );
    let mut chart_desc = match (
        with_data.iter().max_by_key(|(_, l)| *l),
        with_data.iter().min_by_key(|(_, l)| *l),
    ) {
        (Some(hi), Some(lo)) if with_data.len() > 1 => format!(
            "{range} El mayor consumo fue en {} ({}); el menor, en {} ({}).",
            long_period(hi.0),
            m3_label(hi.1),
            long_period(lo.0),
            m3_label(lo.1)
        ),
        (Some(only), _) => format!(
            "{range} Solo hay lectura de {}: {}.",
            long_period(only.0),
            m3_label(only.1)
        ),
        _ => format!("{range} Todavía no hay lecturas en estos periodos."),
    };
    if let Some(l) = &area_label {
        chart_desc.push_str(&format!(" La raya oscura marca el promedio de {l}."));
    }

    // The running period, then the latest complete one compared with a year before and
    // with the neighbours (a running period is not comparable yet).
    let mut comparison = Vec::new();
    if let Some(l) = own.get(&current) {
        comparison.push(format!(
            "En {} (periodo en curso) llevas {}.",
            long_period(current),
            m3_label(*l)
        ));
    }
    match with_data.iter().rev().find(|(p, _)| *p != current) {
        Some(&(p, l)) => {
            comparison.push(format!("En {} usaste {}.", long_period(p), m3_label(l)));
            let before = shift_period(p, -12);
            if let Some(&ly) = own.get(&before) {
                let diff = l - ly;
                let how = match diff.cmp(&0) {
                    std::cmp::Ordering::Greater => format!("{} más", m3_label(diff)),
                    std::cmp::Ordering::Less => format!("{} menos", m3_label(-diff)),
                    std::cmp::Ordering::Equal => "lo mismo".to_string(),
                };
                comparison.push(format!(
                    "En {} usaste {}: este año es {how}.",
                    long_period(before),
                    m3_label(ly)
                ));
            }
            if let (Some(a), Some(label)) = (avg.get(&p), &area_label) {
                comparison.push(format!(
                    "El promedio de {label} en {} fue de {}.",
                    long_period(p),
                    m3_label(*a)
                ));
            }
        }
        None if with_data.is_empty() => comparison
            .push("Todavía no tenemos lecturas de tu medidor en el último año.".to_string()),
        None => {}
    }

    let (daily, daily_desc) = match days {
        None => (None, None),
        Some((today, rows)) => {
            let by_day: HashMap<NaiveDate, i64> = rows.iter().map(|d| (d.day, d.litres)).collect();
            let dmax = by_day.values().copied().max().unwrap_or(0).max(1);
            let list: Vec<ConsumptionDay> = (0..DAYS_SHOWN)
                .rev()
                .map(|back| today - Duration::days(back))
                .map(|d| ConsumptionDay {
                    label: format!("{} {}", d.day(), MONTHS[d.month0() as usize]),
                    long_label: long_day(d),
                    m3: by_day.get(&d).map(|l| m3_label(*l)),
                    litres: by_day.get(&d).map(|l| litres_label(*l)),
                    height: by_day.get(&d).map(|l| height(*l, dmax)).unwrap_or(0),
                })
                .collect();
            let total: i64 = by_day.values().sum();
            let desc = match by_day.iter().max_by_key(|(d, l)| (**l, **d)) {
                Some((d, l)) => format!(
                    "Consumo de agua por día, últimos 30 días: {} en total. El día de mayor consumo fue el {} ({}).",
                    m3_label(total),
                    long_day(*d),
                    litres_label(*l)
                ),
                None => "Consumo de agua por día, últimos 30 días: tu medidor no envió lecturas."
                    .to_string(),
            };
            (Some(list), Some(desc))
        }
    };

    ConsumptionView {
        contract_id: 0,
        number: String::new(),
        has_meter: true,
        periods: rows,
        area_label,
        chart_desc,
        comparison,
        daily,
        daily_desc,
        fetched_at: String::new(),
    }
}

// ---------------------------------------------------------------- alerts

fn advice(kind: Kind, work_order: bool) -> &'static str {
    if work_order {
        return "Ya programamos una visita del personal de la CEA para revisarlo.";
    }
    match kind {
        Kind::FugaNocturna | Kind::AlarmaFuga | Kind::AlarmaRuptura => {
            "Revisa que no haya llaves abiertas, que el tinaco no se desborde y que el excusado no gotee. Si no encuentras la causa, repórtalo a la CEA."
        }
        Kind::ConsumoAlto => {
            "Revisa si hubo más personas en casa, riego o alguna fuga. Compara tus periodos en «Ver mi consumo»."
        }
        Kind::MedidorDetenido => {
            "Tu medidor parece no avanzar. Envíanos tu lectura con una foto del medidor."
        }
        Kind::AlarmaReverso => {
            "El agua pasó en sentido contrario por tu medidor. Lo vamos a revisar."
        }
        Kind::AlarmaManipulacion => {
            "Tu medidor avisó de una posible manipulación. Si no fuiste tú, repórtalo a la CEA."
        }
    }
}

pub async fn alerts() -> Result<Vec<AlertView>, AppError> {
    let (_, contract_id, r) = citizen().await?;
    let found = match metering::anomalies::for_contract(&r.st.db, r.tenant, contract_id, Utc::now())
        .await
    {
        Ok(a) => a,
        Err(e) => return fail(e.into()),
    };
    let mut list: Vec<AlertView> = found
        .into_iter()
        .map(|a| AlertView {
            id: a.id,
            title: a.title.to_string(),
            detail: a.detail,
            detected: date_label(a.detected_at),
            advice: advice(a.kind, a.work_order).to_string(),
            urgent: matches!(
                a.kind,
                Kind::FugaNocturna | Kind::AlarmaFuga | Kind::AlarmaRuptura
            ),
        })
        .collect();
    // Leaks first; otherwise newest first, as the engine gives them.
    list.sort_by_key(|a| !a.urgent);
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use db::consumption::{AreaPeriod, DayTotal, PeriodTotal};

    fn own(rows: &[(i32, i64)]) -> Vec<PeriodTotal> {
        rows.iter()
            .map(|&(period, litres)| PeriodTotal {
                period,
                litres,
                readings: 1,
            })
            .collect()
    }

    #[test]
    fn thirteen_periods_with_last_year_and_the_area() {
        let v = build_consumption(
            202611,
            &own(&[
                (202510, 14_000),
                (202511, 10_000),
                (202610, 12_500),
                (202611, 3_200),
            ]),
            Some(&db::consumption::Area::Colonia {
                colonia: "Centro".into(),
                municipio: "Querétaro".into(),
            }),
            &[AreaPeriod {
                period: 202610,
                litres: 75_000,
                meters: 5,
            }],
            None,
        );
        assert_eq!(v.periods.len(), 13);
        assert_eq!(v.periods[0].label, "nov 2025");
        assert_eq!(v.periods[0].m3.as_deref(), Some("10 m³"));
        let oct = &v.periods[11];
        assert_eq!(oct.long_label, "octubre 2026");
        assert_eq!(oct.m3.as_deref(), Some("12.5 m³"));
        assert_eq!(oct.area.as_deref(), Some("15 m³"));
        assert_eq!(oct.height, 833);
        assert_eq!(oct.area_height, Some(1000));
        let nov = &v.periods[12];
        assert!(nov.current);
        assert_eq!(nov.last_year.as_deref(), Some("10 m³"));
        assert_eq!(v.periods[5].m3, None);
        assert_eq!(v.periods[5].height, 0);
        assert_eq!(
            v.area_label.as_deref(),
            Some("tus vecinos de la colonia Centro")
        );
        assert_eq!(
            v.comparison,
            vec![
                "En noviembre 2026 (periodo en curso) llevas 3.2 m³.".to_string(),
                "En octubre 2026 usaste 12.5 m³.".to_string(),
                "En octubre 2025 usaste 14 m³: este año es 1.5 m³ menos.".to_string(),
                "El promedio de tus vecinos de la colonia Centro en octubre 2026 fue de 15 m³."
                    .to_string(),
            ]
        );
        assert!(
            v.chart_desc
                .contains("El mayor consumo fue en octubre 2026 (12.5 m³)")
        );
        assert!(v.daily.is_none());
    }

    #[test]
    fn no_readings_and_daily_bars() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).expect("date");
        let days = [
            DayTotal {
                day: today,
                litres: 350,
                readings: 24,
            },
            DayTotal {
                day: today - Duration::days(3),
                litres: 1_400,
                readings: 24,
            },
        ];
        let v = build_consumption(202611, &[], None, &[], Some((today, &days)));
        assert_eq!(
            v.comparison,
            vec!["Todavía no tenemos lecturas de tu medidor en el último año.".to_string()]
        );
        assert!(v.area_label.is_none());
        let d = v.daily.expect("daily");
        assert_eq!(d.len(), 30);
        assert_eq!(d[29].label, "24 nov");
        assert_eq!(d[29].long_label, "martes 24 de noviembre");
        assert_eq!(d[29].litres.as_deref(), Some("350 litros"));
        assert_eq!(d[29].height, 250);
        assert_eq!(d[26].m3.as_deref(), Some("1.4 m³"));
        assert_eq!(d[0].m3, None);
        assert_eq!(
            v.daily_desc.as_deref(),
            Some(
                "Consumo de agua por día, últimos 30 días: 1.75 m³ en total. El día de mayor consumo fue el sábado 21 de noviembre (1,400 litros)."
            )
        );
    }

    #[test]
    fn taken_at_formats() {
        assert_eq!(taken_at("").ok(), Some(None));
        let t = taken_at("2026-11-24T10:15").expect("local").expect("some");
        assert_eq!(t.to_rfc3339(), "2026-11-24T16:15:00+00:00");
        let t = taken_at("2026-11-24T16:15:00.000Z")
            .expect("utc")
            .expect("some");
        assert_eq!(t.to_rfc3339(), "2026-11-24T16:15:00+00:00");
        assert_eq!(
            taken_at("ayer").err().and_then(|e| e.for_field("fecha")),
            Some("Escribe la fecha y la hora de la lectura, por ejemplo 24/11/2026 10:15.".into())
        );
    }
}
