//! Server side of the server functions: authenticate, authorise, call the engines,
//! map errors. Nothing here is compiled into the browser bundle.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use chrono::{DateTime, Datelike, Timelike, Utc};
use db::{Db, TenantId, models::*, repo};
use domain::consumption::MeterSpec;
use domain::{
    ContractStatus, M3, Money, ReadingQuality, ReadingSource, StaffRole, TariffClass, UseType,
};
use leptos::prelude::*;
use leptos_axum::{ResponseOptions, extract, redirect};

use crate::api::*;
use crate::error::AppError;

pub const SESSION_COOKIE: &str = "supra_session";

/// Shared server state, provided to every server function as Leptos context.
#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub auth: auth::Auth,
    pub tenants: Arc<Vec<Tenant>>,
    pub default_tenant: TenantId,
    pub secure_cookies: bool,
    pub dev_mode: bool,
    /// Billing settings (due days, review policy, chunk size) for runs started here.
    pub billing: invoicing::Settings,
    /// The PAC client and each tenant's CSD.
    pub fiscal: Arc<invoicing::fiscal::Runtime>,
    /// The payment providers (Conekta) and reference settings.
    pub payments: Arc<invoicing::orders::Providers>,
    /// The anomaly rules' thresholds (`[ingest]`), for detection run from the staff page.
    pub anomalies: metering::anomalies::Settings,
    /// The bridge to AquaCIS (`AQUACIS_URL`, or the simulator in development); `None`
    /// when the utility has no legacy system to talk to.
    pub legacy: Option<Arc<bridge::Bridge>>,
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

impl AppState {
    /// Tenant for a request: the one whose hostname matches `Host`, else the default.
    pub fn tenant_for_host(&self, host: Option<&str>) -> TenantId {
        let host = host.map(|h| h.split(':').next().unwrap_or(h).to_ascii_lowercase());
        host.and_then(|h| {
            self.tenants
                .iter()
                .find(|t| t.hostname.as_deref() == Some(h.as_str()))
        })
        .map(|t| TenantId(t.id))
        .unwrap_or(self.default_tenant)
    }
}

fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or(AppError::Internal)
}

/// Log an unexpected error and hide its details from the user.
fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "internal error in server function");
    AppError::Internal
}

impl From<db::Error> for AppError {
    fn from(e: db::Error) -> Self {
        internal(e)
    }
}

impl From<auth::AuthError> for AppError {
    fn from(e: auth::AuthError) -> Self {
        match e {
            auth::AuthError::Validation { field, message } => AppError::invalid(field, message),
            auth::AuthError::RateLimited { message } => AppError::TooMany(message),
            auth::AuthError::Unauthorized => AppError::Unauthorized,
            other => internal(other),
        }
    }
}

/// Set the HTTP status for an error result (4xx for bad input, never 500).
/// Only for server-function calls: a page that calls a server function while
/// rendering decides its own status (e.g. redirects to sign-in).
fn fail<T>(e: AppError) -> Result<T, AppError> {
    let parts = use_context::<axum::http::request::Parts>();
    let is_api_call = parts
        .as_ref()
        .is_some_and(|p| p.uri.path().starts_with("/api/"));
    // A form posted without JavaScript (the browser asks for HTML; the app's own
    // calls ask for JSON) goes back to its page with the error in the URL
    // (`?__err=`, shown next to its field): keep that redirect, no 4xx page.
    let plain_form = parts.as_ref().is_some_and(|p| {
        p.headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    });
    if let (false, Some(p), AppError::Unauthorized) = (is_api_call, &parts, &e) {
        // A page rendered for someone not signed in: send them to the right sign-in.
        redirect(if p.uri.path().starts_with("/personal") {
            "/personal/entrar"
        } else {
            "/entrar"
        });
    }
    if let Some(opts) = use_context::<ResponseOptions>() {
        if is_api_call {
            if !plain_form {
                opts.set_status(
                    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
                );
            }
        } else if matches!(e, AppError::Forbidden | AppError::NotFound) {
            // A page that may not be shown says so with its status too (403 / 404).
            opts.set_status(StatusCode::from_u16(e.status()).unwrap_or(StatusCode::NOT_FOUND));
        }
    }
    Err(e)
}

async fn headers() -> Result<HeaderMap, AppError> {
    extract::<HeaderMap>().await.map_err(internal)
}

/// The key that makes a repeated request one payment: the `Idempotency-Key` header
/// (API clients) or the form's `clave` (the browser's forms carry one per page load).
/// Both given and different is a client error.
pub(crate) async fn idempotency_key(form: String) -> Result<String, AppError> {
    let h = headers().await?;
    let header = match h.get("idempotency-key") {
        None => None,
        Some(v) => match v.to_str().map(str::trim) {
            Ok(k) if !k.is_empty() && k.len() <= 100 => Some(k.to_string()),
            _ => {
                return fail(AppError::invalid(
                    "clave",
                    "El encabezado Idempotency-Key debe tener de 1 a 100 caracteres visibles.",
                ));
            }
        },
    };
    let form = form.trim().to_string();
    match header {
        Some(k) if !form.is_empty() && form != k => fail(AppError::invalid(
            "clave",
            "La clave del formulario y el encabezado Idempotency-Key no coinciden.",
        )),
        Some(k) => Ok(k),
        None => Ok(form),
    }
}

fn client_ip(h: &HeaderMap, peer: Option<SocketAddr>) -> String {
    // Behind the utility's reverse proxy the first X-Forwarded-For hop is the client.
    h.get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| peer.map(|p| p.ip().to_string()))
        .unwrap_or_else(|| "desconocida".into())
}

pub struct Req {
    st: AppState,
    tenant: TenantId,
    ip: String,
    cookie: Option<String>,
    /// `Host` as the browser sent it (it chose the tenant), for links back to us.
    host: String,
}

impl Req {
    /// Tenant (from `Host`), client IP and session cookie of a request. The one code
    /// path for server functions ([`req`]) and plain axum handlers (PDF, SSE).
    pub fn from_headers(st: AppState, h: &HeaderMap, peer: Option<SocketAddr>) -> Req {
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
        let tenant = st.tenant_for_host(host);
        let cookie = h
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == SESSION_COOKIE)
            .map(|(_, v)| v.to_string());
        let host = host
            .filter(|h| {
                !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
            })
            .unwrap_or("localhost")
            .to_string();
        Req {
            ip: client_ip(h, peer),
            st,
            tenant,
            cookie,
            host,
        }
    }

    /// Our address as the browser reached it, e.g. `https://agua.example` (https
    /// whenever cookies are marked secure, i.e. outside development).
    pub fn origin(&self) -> String {
        let scheme = if self.st.secure_cookies {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.host)
    }
}

async fn req() -> Result<Req, AppError> {
    let st = state()?;
    let h = headers().await?;
    let peer = extract::<ConnectInfo<SocketAddr>>().await.ok().map(|c| c.0);
    Ok(Req::from_headers(st, &h, peer))
}

async fn session(r: &Req) -> Result<Option<auth::SessionInfo>, AppError> {
    let Some(c) = &r.cookie else { return Ok(None) };
    let s = r.st.auth.session(c, Utc::now()).await?;
    // A cookie from another tenant's host is not valid here.
    Ok(s.filter(|s| s.tenant == r.tenant))
}

/// The citizen signed in on `r`: (citizen id, active contract id). No side effects
/// on the response (see [`citizen`] for server functions).
async fn citizen_of(r: &Req) -> Result<(i64, i64), AppError> {
    match session(r).await? {
        Some(auth::SessionInfo {
            actor:
                auth::Actor::Citizen {
                    citizen_id,
                    contract_id: Some(c),
                },
            ..
        }) => Ok((citizen_id, c)),
        Some(_) => Err(AppError::Forbidden),
        None => Err(AppError::Unauthorized),
    }
}

/// The signed-in citizen: (citizen id, active contract id).
pub async fn citizen() -> Result<(i64, i64, Req), AppError> {
    let r = req().await?;
    match citizen_of(&r).await {
        Ok((citizen_id, c)) => Ok((citizen_id, c, r)),
        Err(e) => fail(e),
    }
}

pub struct Staff {
    id: i64,
    name: String,
    email: String,
    role: StaffRole,
    r: Req,
}

/// Roles that manage tariffs, billing runs and adjustments (admin always may).
const BILLING: &[StaffRole] = &[StaffRole::Facturacion];

fn can_bill(role: StaffRole) -> bool {
    role == StaffRole::Admin || BILLING.contains(&role)
}

/// The staff member signed in on `r`, if their role is allowed. No side effects on
/// the response (see [`staff`] for server functions).
async fn staff_of(r: Req, allowed: &[StaffRole]) -> Result<Staff, AppError> {
    match session(&r).await? {
        Some(auth::SessionInfo {
            actor:
                auth::Actor::Staff {
                    staff_id,
                    email,
                    name,
                    role,
                },
            ..
        }) => {
            if role == StaffRole::Admin || allowed.contains(&role) {
                Ok(Staff {
                    id: staff_id,
                    name,
                    email,
                    role,
                    r,
                })
            } else {
                Err(AppError::Forbidden)
            }
        }
        Some(_) => Err(AppError::Forbidden),
        None => Err(AppError::Unauthorized),
    }
}

async fn staff(allowed: &[StaffRole]) -> Result<Staff, AppError> {
    let r = req().await?;
    match staff_of(r, allowed).await {
        Ok(s) => Ok(s),
        Err(e) => fail(e),
    }
}

fn set_cookie(st: &AppState, value: &str, max_age_secs: i64) {
    let secure = if st.secure_cookies { "; Secure" } else { "" };
    let c = format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    );
    if let (Some(opts), Ok(v)) = (use_context::<ResponseOptions>(), HeaderValue::from_str(&c)) {
        opts.append_header(header::SET_COOKIE, v);
    }
}

// ---------------------------------------------------------------- citizen

pub async fn request_code(
    contrato: String,
    citizen_id: Option<i64>,
) -> Result<CodeSentView, AppError> {
    let r = req().await?;
    let purpose = match citizen_id {
        Some(citizen_id) => auth::Purpose::Link { citizen_id },
        None => auth::Purpose::Login,
    };
    match r
        .st
        .auth
        .request_code(r.tenant, &contrato, purpose, &r.ip, Utc::now())
        .await
    {
        Ok(s) => Ok(CodeSentView {
            contract: s.contract_number,
            destination: s.destination_masked,
            minutes: r.st.auth.policy.code_ttl.num_minutes(),
        }),
        Err(e) => fail(e.into()),
    }
}

pub async fn verify_code(contrato: String, codigo: String, link: bool) -> Result<(), AppError> {
    let (r, purpose) = if link {
        let (citizen_id, _, r) = citizen().await?;
        (r, auth::Purpose::Link { citizen_id })
    } else {
        (req().await?, auth::Purpose::Login)
    };
    match r
        .st
        .auth
        .verify_code(r.tenant, &contrato, &codigo, purpose, &r.ip, Utc::now())
        .await
    {
        Ok(done) => {
            if let Some(s) = done.session {
                set_cookie(
                    &r.st,
                    &s.cookie_value(),
                    r.st.auth.policy.citizen_session.num_seconds(),
                );
            } else {
                // Linked: make the new contract the one shown.
                switch_to(&r, done.citizen_id, done.contract_id).await?;
            }
            redirect("/cuenta");
            Ok(())
        }
        Err(e) => fail(e.into()),
    }
}

async fn switch_to(r: &Req, citizen_id: i64, contract_id: i64) -> Result<(), AppError> {
    let Some(s) = session(r).await? else {
        return fail(AppError::Unauthorized);
    };
    let mut tx = r.st.db.write(r.tenant).await?;
    if !repo::citizen_has_contract(&mut tx, citizen_id, contract_id).await? {
        return fail(AppError::NotFound);
    }
    repo::set_session_contract(&mut tx, s.session_id, contract_id).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn switch_contract(contract_id: i64) -> Result<(), AppError> {
    let (citizen_id, _, r) = citizen().await?;
    switch_to(&r, citizen_id, contract_id).await?;
    redirect("/cuenta");
    Ok(())
}

pub async fn logout() -> Result<(), AppError> {
    let r = req().await?;
    if let Some(c) = &r.cookie {
        r.st.auth.logout(c, &r.ip, Utc::now()).await?;
    }
    set_cookie(&r.st, "", 0);
    Ok(())
}

pub async fn dashboard() -> Result<Dashboard, AppError> {
    let (citizen_id, contract_id, r) = citizen().await?;
    let mut tx = r.st.db.read(r.tenant).await?;
    let linked = repo::linked_contracts(&mut tx, citizen_id).await?;
    if !linked.iter().any(|l| l.contract_id == contract_id) {
        return fail(AppError::Forbidden);
    }
    let (d, _) = load_dashboard(&mut tx, contract_id, 12).await?;
    let Some(mut d) = d else {
        return fail(AppError::NotFound);
    };
    drop(tx);
    legacy_contract(&r, &mut d).await;
    legacy_balance(&r, &mut d).await;
    d.linked = linked
        .into_iter()
        .map(|l| LinkedView {
            contract_id: l.contract_id,
            number: l.number,
            address: format!("{} {}, {}", l.street, l.ext_number, l.colonia),
        })
        .collect();
    Ok(d)
}

const MONTHS: [&str; 12] = domain::MONTHS_ES_SHORT;

/// While AquaCIS keeps the contracts (`contratos` reads from legacy), the titular,
/// address and status shown are AquaCIS's (through the bridge's cache; when AquaCIS
/// has never answered for this contract, SUPRA's stay).
async fn legacy_contract(r: &Req, d: &mut Dashboard) {
    let Some(b) = r.st.legacy.as_ref() else {
        return;
    };
    if !bridge::settings::reads_from_legacy(&r.st.db, r.tenant, bridge::Domain::Contratos)
        .await
        .unwrap_or(false)
    {
        return;
    }
    let op = legacy::ops::ConsultaDetalleContrato {
        num_contrato: d.number.clone(),
    };
    match bridge::read(&r.st.db, r.tenant, b, &op, Utc::now()).await {
        Ok(c) => {
            if let Some(k) = c.value.contrato {
                d.titular = k.titular;
                d.address = k.direccion;
                d.status = match k.estado.as_str() {
                    "ALTA" => "Activo".into(),
                    "BAJA" => "Dado de baja".into(),
                    "SUSPENDIDO" => "Suspendido".into(),
                    other => other.to_owned(),
                };
            }
        }
        Err(e) => tracing::warn!(error = %e, contract = %d.number, "AquaCIS contract unavailable"),
    }
}

/// While AquaCIS keeps the debt (`deuda` reads from legacy), the balance shown is
/// AquaCIS's, through the bridge's cache: when AquaCIS does not answer, its last
/// answer with its date; with no answer ever, SUPRA's own with a notice.
async fn legacy_balance(r: &Req, d: &mut Dashboard) {
    let Some(b) = r.st.legacy.as_ref() else {
        return;
    };
    let now = Utc::now();
    match bridge::settings::reads_from_legacy(&r.st.db, r.tenant, bridge::Domain::Deuda).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, "legacy settings");
            return;
        }
    }
    match bridge::debt(&r.st.db, r.tenant, b, &d.number, now).await {
        Ok(c) => {
            let owed = c
                .value
                .resultado
                .as_ref()
                .map(|x| Money::from_decimal_rounded(x.deuda_total))
                .unwrap_or(Money::ZERO);
            d.balance = owed.format_mxn();
            d.owes = owed > Money::ZERO;
            d.credit = false;
            d.legacy_balance = Some(LegacyBalance {
                as_of: datetime_label(c.fetched_at),
                stale: c.stale,
                unavailable: false,
            });
        }
        Err(e) => {
            tracing::warn!(error = %e, contract = %d.number, "AquaCIS balance unavailable");
            d.legacy_balance = Some(LegacyBalance {
                as_of: datetime_label(now),
                stale: true,
                unavailable: true,
            });
        }
    }
}

fn datetime_label(t: DateTime<Utc>) -> String {
    let l = t.with_timezone(&chrono_tz::America::Mexico_City);
    format!("{} a las {:02}:{:02}", date_label(t), l.hour(), l.minute())
}

fn period_label(p: i32) -> String {
    let (y, m) = (p / 100, (p % 100).clamp(1, 12));
    format!("{} {}", MONTHS[(m - 1) as usize], y)
}

fn date_label(t: DateTime<Utc>) -> String {
    let l = t.with_timezone(&chrono_tz::America::Mexico_City);
    format!("{} {} {}", l.day(), MONTHS[l.month0() as usize], l.year())
}

fn label<T: std::str::FromStr>(code: &str, f: impl Fn(&T) -> &'static str) -> String {
    code.parse::<T>()
        .map(|v| f(&v).to_string())
        .unwrap_or_else(|_| code.to_string())
}

/// Build the dashboard for a contract from its readings (newest `periods + 1`).
async fn load_dashboard(
    tx: &mut db::Scoped,
    contract_id: i64,
    periods: usize,
) -> Result<(Option<Dashboard>, Option<(AccountRow, Vec<ReadingView>)>), AppError> {
    let Some(a) = repo::account_by_id(tx, contract_id).await? else {
        return Ok((None, None));
    };
    let meters = repo::meters_of_contract(tx, contract_id).await?;
    let meter = meters.first();
    let mut rows = match meter {
        Some(m) => repo::recent_readings(tx, m.id, 25).await?,
        None => vec![],
    };
    rows.reverse(); // oldest first
    let spec = meter.map(|m| MeterSpec {
        digits: u8::try_from(m.digits).unwrap_or(5),
        multiplier: m.multiplier.into(),
    });
    let mut views = Vec::with_capacity(rows.len());
    let mut periods_v = Vec::new();
    for (i, rd) in rows.iter().enumerate() {
        let value = M3::from_litres(rd.value_litres);
        let estimated = !ingest::validate::billable(&rd.quality)
            || rd.source == ReadingSource::Estimada.as_str();
        let cons = match (i.checked_sub(1).map(|j| &rows[j]), &spec) {
            (Some(prev), Some(spec)) => Some(domain::consumption::consumption(
                M3::from_litres(prev.value_litres),
                value,
                spec,
            )),
            _ => None,
        };
        let cons_label = cons.map(|c| c.m3().format()).unwrap_or_else(|| "—".into());
        if let Some(c) = cons {
            periods_v.push((rd.period, c, estimated));
        }
        views.push(ReadingView {
            period: period_label(rd.period),
            date: date_label(rd.read_at),
            value: value.format(),
            source: label::<ReadingSource>(&rd.source, |s| s.label_es()),
            quality: label::<ReadingQuality>(&rd.quality, |s| s.label_es()),
            consumption: cons_label,
        });
    }
    let recent: Vec<_> = periods_v
        .iter()
        .rev()
        .take(periods)
        .rev()
        .cloned()
        .collect();
    let max = recent
        .iter()
        .map(|(_, c, _)| c.m3().litres().max(0))
        .max()
        .unwrap_or(0)
        .max(1);
    let consumption = recent
        .iter()
        .map(|(p, c, est)| PeriodView {
            label: period_label(*p),
            m3: c.m3().format(),
            bar_pct: u8::try_from((c.m3().litres().max(0) * 100 / max).clamp(0, 100)).unwrap_or(0),
            estimated: *est,
            flagged: matches!(c, domain::consumption::Consumption::Negative(_)),
        })
        .collect();
    let balance = Money::from_centavos(a.balance_centavos);
    let address = format!(
        "{} {}{}, {}, {}, C.P. {}",
        a.street,
        a.ext_number,
        a.int_number
            .as_deref()
            .map(|i| format!(" int. {i}"))
            .unwrap_or_default(),
        a.colonia,
        a.municipio,
        a.cp
    );
    let d = Dashboard {
        contract_id,
        number: a.number.clone(),
        titular: a.full_name.clone(),
        address,
        use_type: label::<UseType>(&a.use_type, |u| u.label_es()),
        status: label::<ContractStatus>(&a.status, |s| s.label_es()),
        meter: meter.map(|m| MeterView {
            id: m.id,
            serial: m.serial.clone(),
            make_model: format!("{} {}", m.make, m.model),
            diameter: format!("{} mm", m.diameter_mm),
            details: format!(
                "{} dígitos, multiplicador {}{}",
                m.digits,
                m.multiplier,
                if m.smart { ", telemetría" } else { "" }
            ),
        }),
        readings: views.iter().rev().take(3).cloned().collect(),
        consumption,
        balance: if balance.is_negative() {
            (-balance).format_mxn()
        } else {
            balance.format_mxn()
        },
        owes: balance > Money::ZERO,
        credit: balance.is_negative(),
        linked: vec![],
        fetched_at: auth::format_local(Utc::now()),
        spei_clabe: invoicing::cobro::spei_clabe(tx, contract_id).await?,
        pending_payments: pagos::orders_of(tx, contract_id, "")
            .await?
            .into_iter()
            .filter(|o| o.status == "pendiente" && o.reference.is_some())
            .collect(),
        legacy_balance: None,
    };
    views.reverse();
    Ok((Some(d), Some((a, views))))
}

// ---------------------------------------------------------------- staff

pub async fn staff_login(correo: String, contrasena: String) -> Result<(), AppError> {
    let r = req().await?;
    match r
        .st
        .auth
        .staff_login(r.tenant, &correo, &contrasena, &r.ip, Utc::now())
        .await
    {
        Ok((_, token)) => {
            set_cookie(
                &r.st,
                &token.cookie_value(),
                r.st.auth.policy.staff_session.num_seconds(),
            );
            redirect("/personal");
            Ok(())
        }
        Err(e) => fail(e.into()),
    }
}

pub async fn staff_me() -> Result<StaffProfile, AppError> {
    let s = staff(StaffRole::ALL).await?;
    Ok(StaffProfile {
        can_bill: can_bill(s.role),
        can_take_payments: cfdi::can_take_payment(s.role),
        can_read_meters: medicion::METERS.contains(&s.role) || s.role == StaffRole::Admin,
        can_see_legacy: legado::BRIDGE.contains(&s.role) || s.role == StaffRole::Admin,
        name: s.name,
        email: s.email,
        role: s.role.label_es().to_string(),
    })
}

async fn audit(
    s: &Staff,
    action: &str,
    subject: Option<(&str, i64)>,
    data: serde_json::Value,
) -> Result<(), AppError> {
    let mut tx = s.r.st.db.write(s.r.tenant).await?;
    repo::record_event(
        &mut tx,
        repo::NewEvent {
            actor_kind: "staff",
            actor_id: Some(s.id),
            action,
            subject_kind: subject.map(|x| x.0),
            subject_id: subject.map(|x| x.1),
            data,
            ip: Some(&s.r.ip),
            now: Utc::now(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn search(q: String) -> Result<SearchResult, AppError> {
    let s = staff(StaffRole::ALL).await?;
    let q = q.trim().to_string();
    if q.chars().count() > 100 {
        return fail(AppError::invalid("q", "Escribe menos de 100 caracteres."));
    }
    let norm = domain::normalize_search(&q);
    let tokens: Vec<String> = norm
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    if tokens.is_empty() {
        return fail(AppError::invalid(
            "q",
            "Escribe un contrato, nombre, medidor, calle o teléfono.",
        ));
    }
    if tokens.iter().all(|t| t.chars().count() < 2) {
        return fail(AppError::invalid(
            "q",
            "Escribe al menos 2 letras o números.",
        ));
    }
    const LIMIT: i64 = 50;
    let mut tx = s.r.st.db.read(s.r.tenant).await?;
    let hits = repo::search_accounts(&mut tx, &tokens, LIMIT + 1).await?;
    drop(tx);
    let truncated = hits.len() as i64 > LIMIT;
    let rows: Vec<SearchRow> = hits
        .into_iter()
        .take(LIMIT as usize)
        .map(|h| SearchRow {
            contract_id: h.contract_id,
            number: h.number,
            titular: h.full_name,
            address: format!(
                "{} {}, {}, {}",
                h.street, h.ext_number, h.colonia, h.municipio
            ),
            meter: h.meter_serial.unwrap_or_else(|| "—".into()),
            status: label::<ContractStatus>(&h.status, |x| x.label_es()),
            use_type: label::<UseType>(&h.use_type, |x| x.label_es()),
        })
        .collect();
    audit(
        &s,
        "account.searched",
        None,
        serde_json::json!({"q": q, "results": rows.len()}),
    )
    .await?;
    Ok(SearchResult {
        query: q,
        rows,
        truncated,
    })
}

pub async fn account(contract_id: i64) -> Result<AccountDetail, AppError> {
    let s = staff(StaffRole::ALL).await?;
    let mut tx = s.r.st.db.read(s.r.tenant).await?;
    let (d, extra) = load_dashboard(&mut tx, contract_id, 24).await?;
    let (Some(d), Some((a, all_readings))) = (d, extra) else {
        return fail(AppError::NotFound);
    };
    let events = repo::events_for_subject(&mut tx, "contract", contract_id, 20).await?;
    drop(tx);
    let invoices = invoicing::invoice_list(&s.r.st.db, s.r.tenant, contract_id, 24)
        .await
        .map_err(AppError::from)?
        .iter()
        .map(bill_row)
        .collect();
    audit(
        &s,
        "account.viewed",
        Some(("contract", contract_id)),
        serde_json::json!({}),
    )
    .await?;
    let dash = |v: Option<String>| v.filter(|x| !x.is_empty()).unwrap_or_else(|| "—".into());
    Ok(AccountDetail {
        phone: dash(
            a.phone
                .as_deref()
                .and_then(|p| p.parse::<domain::PhoneMx>().ok())
                .map(|p| p.e164()),
        ),
        email: dash(a.email.clone()),
        rfc: dash(a.rfc.clone()),
        curp: dash(a.curp.clone()),
        tariff_class: label::<TariffClass>(&a.tariff_class, |x| x.label_es()),
        start_date: a.start_date.format("%d/%m/%Y").to_string(),
        vulnerable: a.vulnerable,
        toma: format!("{} de {} mm", a.toma_kind, a.toma_diameter_mm),
        sector: dash(a.sector_name.clone()),
        all_readings,
        events: events
            .into_iter()
            .map(|e| AuditView {
                when: auth::format_local(e.occurred_at),
                action: e.action,
                actor: format!(
                    "{} {}",
                    e.actor_kind,
                    e.actor_id.map(|i| i.to_string()).unwrap_or_default()
                ),
            })
            .collect(),
        invoices,
        dashboard: d,
    })
}

pub mod bills;
pub mod caja;
pub mod cfdi;
pub mod cobro;
pub mod conciliacion;
pub mod domiciliacion;
pub mod lecturas;
pub mod legado;
pub mod medicion;
pub mod pagos;
use bills::bill_row;
pub use bills::{citizen_pdf, citizen_xml, run_events, staff_pdf, staff_xml};
pub use cfdi::staff_cfdi_xml;

/// For plain axum handlers outside this crate (the AquaCIS REST facade,
/// `server::aquasis_api`): the id of the staff member signed in on the request, if
/// their role is in `allowed` (admin always is), and the request's tenant.
/// `Unauthorized` without a staff session, `Forbidden` for another role or a citizen.
pub async fn staff_session(
    st: AppState,
    h: &HeaderMap,
    peer: Option<SocketAddr>,
    allowed: &[StaffRole],
) -> Result<(i64, TenantId), AppError> {
    let s = staff_of(Req::from_headers(st, h, peer), allowed).await?;
    Ok((s.id, s.r.tenant))
}
