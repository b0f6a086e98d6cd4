//! CFDI for staff: the list with filters, CSD and PAC status, retry, cancellation,
//! payments at the counter with their Complemento de Pago, and the XML download.
//! Thin: authenticate, authorise, call `invoicing`, map errors.

use axum::extract::{Path, Request, State};
use axum::response::Response;

use super::bills::{handler_error, peer_of};
use super::*;

/// Roles that manage CFDI (admin always may).
const FISCAL: &[StaffRole] = &[StaffRole::Facturacion];
/// Roles that take payments at the counter.
const CASHIERS: &[StaffRole] = &[StaffRole::Cajero, StaffRole::Facturacion];

const PAGE: i64 = 50;

pub(crate) fn status_label(status: &str) -> &'static str {
    match status {
        "sellado" => "Sellado, en cola para timbrar",
        "timbrado" => "Timbrado",
        "rechazado" => "Rechazado por el PAC",
        "cancelacion_en_proceso" => "Cancelación en proceso",
        "cancelado" => "Cancelado",
        _ => "Desconocido",
    }
}

fn tipo_label(tipo: &str) -> &'static str {
    match tipo {
        "I" => "Ingreso",
        "E" => "Egreso",
        "P" => "Pago",
        _ => "Otro",
    }
}

fn cancellation_label(status: &str) -> &'static str {
    match status {
        "solicitada" => "Solicitada, por enviar al SAT",
        "en_proceso" => "En proceso en el SAT",
        "cancelado" => "Cancelado",
        "rechazado" => "Rechazada (el CFDI sigue vigente)",
        "error" => "No aceptada por el PAC (el CFDI sigue vigente)",
        _ => "Desconocido",
    }
}

fn row(d: db::cfdi::DocumentSummary) -> CfdiRow {
    let pac = match (&d.pac_code, &d.pac_message) {
        (Some(c), Some(m)) => Some(format!("{c}: {m}")),
        (None, Some(m)) => Some(m.clone()),
        (Some(c), None) => Some(c.clone()),
        (None, None) => None,
    };
    CfdiRow {
        id: d.id,
        tipo: tipo_label(&d.tipo).into(),
        serie_folio: format!("{}-{}", d.serie, d.folio),
        receptor_rfc: d.receptor_rfc,
        total: Money::from_centavos(d.total_centavos).format_mxn(),
        fecha: d.fecha.replace('T', " "),
        status_label: status_label(&d.status).into(),
        status: d.status,
        uuid: d.uuid,
        pac,
    }
}

fn csd_status(st: &AppState, tenant: TenantId) -> Result<CsdStatus, String> {
    match st.fiscal.csds.get(&tenant.0) {
        Some(Ok(csd)) => {
            let c = csd.certificate();
            let now = Utc::now();
            Ok(CsdStatus {
                rfc: c.rfc().into(),
                no_certificado: c.no_certificado().into(),
                issuer: c.issuer_name().into(),
                valid_until: invoicing::date_es(c.not_after().date_naive()),
                days_left: (c.not_after() - now).num_days(),
                warning: c.expires_within(now, invoicing::fiscal::CSD_WARNING_DAYS),
            })
        }
        Some(Err(e)) => Err(e.clone()),
        None => Err("el organismo no tiene CSD cargado".into()),
    }
}

fn opt(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

pub async fn list(
    estado: Option<String>,
    tipo: Option<String>,
    periodo: Option<String>,
    q: Option<String>,
    pagina: Option<i64>,
) -> Result<CfdiOverview, AppError> {
    let s = staff(FISCAL).await?;
    let status = opt(estado);
    if status
        .as_deref()
        .is_some_and(|e| status_label(e) == "Desconocido")
    {
        return fail(AppError::invalid("estado", "Elige un estado de la lista."));
    }
    let tipo = opt(tipo);
    if tipo
        .as_deref()
        .is_some_and(|t| !matches!(t, "I" | "E" | "P"))
    {
        return fail(AppError::invalid("tipo", "Elige un tipo de la lista."));
    }
    let period = match opt(periodo) {
        None => None,
        Some(p) => match p.parse::<billing::Period>() {
            Ok(p) => Some(invoicing::period_key(&p)),
            Err(_) => {
                return fail(AppError::invalid(
                    "periodo",
                    "Escribe el periodo como AAAA-MM, por ejemplo 2026-10.",
                ));
            }
        },
    };
    let text = opt(q);
    if text.as_ref().is_some_and(|t| t.chars().count() > 40) {
        return fail(AppError::invalid("q", "Escribe como máximo 40 caracteres."));
    }
    let page = pagina.unwrap_or(1).max(1);
    let filter = db::cfdi::DocumentFilter {
        status,
        tipo,
        period,
        text,
    };
    let st = s.r.st.clone();
    let mut tx = st.db.read(s.r.tenant).await?;
    let (rows, total) = db::cfdi::list_documents(&mut tx, &filter, PAGE, (page - 1) * PAGE).await?;
    let counts = db::cfdi::status_counts(&mut tx)
        .await?
        .into_iter()
        .map(|(status, n)| CountRow {
            label: status_label(&status).into(),
            count: n.to_string(),
        })
        .collect();
    Ok(CfdiOverview {
        csd: csd_status(&st, s.r.tenant),
        pac: if st.fiscal.pac.is_some() {
            st.fiscal.pac_label.clone()
        } else {
            "No configurado: los CFDI se sellan y esperan".into()
        },
        counts,
        rows: rows.into_iter().map(row).collect(),
        total,
        page,
        pages: ((total + PAGE - 1) / PAGE).max(1),
    })
}

pub async fn detail(id: i64) -> Result<CfdiDetail, AppError> {
    let s = staff(FISCAL).await?;
    let mut tx = s.r.st.db.read(s.r.tenant).await?;
    let Some(d) = db::cfdi::document(&mut tx, id).await? else {
        return fail(AppError::NotFound);
    };
    drop(tx);
    let cancellations = match invoicing::cancelacion::of_document(&s.r.st.db, s.r.tenant, id).await
    {
        Ok(c) => c,
        Err(e) => return fail(e.into()),
    };
    let invoice_id = d.invoice_id;
    let r = row(d.into());
    Ok(CfdiDetail {
        can_retry: r.status == "rechazado",
        can_cancel: r.status == "timbrado",
        invoice_id,
        motivos: invoicing::cancelacion::motivos()
            .into_iter()
            .map(|(code, label)| (code.to_string(), format!("{code} · {label}")))
            .collect(),
        cancellations: cancellations
            .into_iter()
            .map(|c| CancellationLine {
                motivo: format!("{} · {}", c.motivo, c.motivo_label),
                folio_sustitucion: c.folio_sustitucion,
                note: c.note,
                status: cancellation_label(&c.status).into(),
                sat_estatus: c.sat_estatus,
                pac: c.pac_code.map(|code| match c.pac_message {
                    Some(m) => format!("{code}: {m}"),
                    None => code,
                }),
                requested_at: local_datetime(c.requested_at),
            })
            .collect(),
        row: r,
    })
}

fn local_datetime(t: chrono::DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::America::Mexico_City)
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

pub async fn retry(id: i64) -> Result<(), AppError> {
    let s = staff(FISCAL).await?;
    match invoicing::fiscal::retry(&s.r.st.db, s.r.tenant, id, invoicing::Actor::Staff(s.id)).await
    {
        Ok(()) => Ok(()),
        Err(invoicing::Error::Invalid { .. }) => fail(AppError::invalid(
            "id",
            "Este CFDI ya no está rechazado; recarga la página.",
        )),
        Err(e) => fail(e.into()),
    }
}

pub async fn cancel(
    id: i64,
    motivo: String,
    sustituto: String,
    nota: String,
) -> Result<(), AppError> {
    let s = staff(FISCAL).await?;
    let request = invoicing::cancelacion::CancelRequest {
        document_id: id,
        motivo,
        folio_sustitucion: Some(sustituto),
        note: nota,
    };
    match invoicing::cancelacion::request(
        &s.r.st.db,
        s.r.tenant,
        &request,
        invoicing::Actor::Staff(s.id),
        Utc::now(),
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(e) => fail(spanish_sentence(e.into())),
    }
}

/// Engine messages start in lower case; next to a field they read as a sentence. Engine
/// field names of the cancellation request map to the form's fields.
pub(crate) fn spanish_sentence(e: AppError) -> AppError {
    match e {
        AppError::Invalid { field, message } => {
            let mut c = message.chars();
            let message = match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>() + ".",
                None => message,
            };
            let field = match field.as_str() {
                "documento" | "folio_sustitucion" if message.contains("sustitu") => "sustituto",
                "folio_sustitucion" => "sustituto",
                "documento" => "nota",
                other => other,
            }
            .to_string();
            AppError::Invalid { field, message }
        }
        other => other,
    }
}

pub async fn record_payment(
    invoice_id: i64,
    importe: String,
    forma: String,
    operacion: String,
    clave: String,
) -> Result<PaymentDone, AppError> {
    let s = staff(CASHIERS).await?;
    let clave = idempotency_key(clave).await?;
    let amount = match Money::parse(&importe) {
        Ok(a) => a,
        Err(e) => return fail(AppError::invalid("importe", e.message)),
    };
    let now = Utc::now();
    let input = invoicing::complemento::PaymentInput {
        invoice_id,
        amount,
        forma_pago: forma,
        paid_at: now,
        num_operacion: Some(operacion),
        idempotency_key: clave,
    };
    match invoicing::complemento::record_payment(
        &s.r.st.db,
        s.r.tenant,
        &input,
        invoicing::Actor::Staff(s.id),
        now,
    )
    .await
    {
        Ok(r) => Ok(PaymentDone {
            parcialidad: r.num_parcialidad,
            saldo_insoluto: Money::from_centavos(r.saldo_insoluto_centavos).format_mxn(),
        }),
        Err(e) => fail(spanish_sentence(e.into())),
    }
}

/// The payments of a bill for the staff bill page.
pub(crate) async fn payment_lines(
    st: &AppState,
    tenant: TenantId,
    invoice_id: i64,
) -> Result<Vec<PaymentLine>, AppError> {
    Ok(
        invoicing::complemento::payments_of_invoice(&st.db, tenant, invoice_id)
            .await?
            .into_iter()
            .map(|p| PaymentLine {
                parcialidad: p.num_parcialidad,
                amount: Money::from_centavos(p.amount_centavos).format_mxn(),
                forma: invoicing::complemento::FORMAS_DE_PAGO
                    .iter()
                    .find(|(c, _)| *c == p.forma_pago)
                    .map_or(p.forma_pago.clone(), |(c, l)| format!("{c} {l}")),
                paid_at: local_datetime(p.paid_at),
                saldo_anterior: Money::from_centavos(p.saldo_anterior_centavos).format_mxn(),
                complemento: match (p.complemento_status.as_deref(), p.complemento_uuid) {
                    (_, Some(uuid)) => format!("Timbrado · {uuid}"),
                    (Some(s), None) => status_label(s).to_string(),
                    (None, None) => "Pendiente (cuando el recibo esté timbrado)".into(),
                },
            })
            .collect(),
    )
}

pub(crate) fn can_take_payment(role: StaffRole) -> bool {
    role == StaffRole::Admin || CASHIERS.contains(&role)
}

/// `GET /personal/cfdi/{id}/xml`: the document's XML (stamped, or sealed while it waits);
/// audited.
pub async fn staff_cfdi_xml(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    let h = req.headers().clone();
    let r = Req::from_headers(st.clone(), &h, peer_of(&req));
    let s = match staff_of(r, FISCAL).await {
        Ok(s) => s,
        Err(e) => return handler_error(e, &h, "/personal/entrar"),
    };
    let (name, xml) = match invoicing::fiscal::document_xml(&st.db, s.r.tenant, id).await {
        Ok(Some(found)) => found,
        Ok(None) => return handler_error(AppError::NotFound, &h, "/personal/entrar"),
        Err(e) => return handler_error(e.into(), &h, "/personal/entrar"),
    };
    if let Err(e) = audit(
        &s,
        "cfdi.xml_downloaded",
        Some(("cfdi", id)),
        serde_json::json!({"file": name}),
    )
    .await
    {
        return handler_error(e, &h, "/personal/entrar");
    }
    bills::xml_response(&name, xml)
}
