//! Citizen payments: the pay page's options, asking for a reference (OXXO through
//! Conekta, or the contract's own SPEI CLABE), the references list, and the barcode
//! image. Thin: authenticate, check the contract is the citizen's, call
//! `invoicing::orders`, map errors.

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};

use super::bills::{handler_error, peer_of};
use super::*;

fn channel_label(c: &str) -> &'static str {
    match c {
        "oxxo" => "OXXO",
        "card" => "Tarjeta",
        "spei" => "SPEI",
        "codi" => "CoDi",
        _ => "Otro",
    }
}

fn status_label(s: &str) -> &'static str {
    match s {
        "pendiente" => "Pendiente de pago",
        "confirmado" => "Pago confirmado",
        "vencido" => "Vencida",
        "rechazado" => "Rechazado",
        "cancelado" => "Cancelado",
        _ => "—",
    }
}

/// "93000262276908" → "9300 0262 2769 08".
fn grouped(reference: &str) -> String {
    reference
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn order_view(o: &db::payments::OrderRow, utility: &str) -> PaymentOrderView {
    let amount = Money::from_centavos(o.amount_centavos).format_mxn();
    let reference = o.reference.as_deref().map(|r| {
        if o.channel == "codi" {
            r.to_string()
        } else {
            grouped(r)
        }
    });
    let expires = o.expires_at.map(date_label);
    let share_text = match (&reference, o.channel.as_str()) {
        (Some(r), "oxxo") => format!(
            "Pago de agua {utility}: {amount} en cualquier OXXO con la referencia {r}{}.",
            expires
                .as_deref()
                .map(|e| format!(", vence el {e}"))
                .unwrap_or_default()
        ),
        (Some(r), "codi") => format!(
            "Pago de agua {utility}: {amount} con CoDi desde la app de tu banco, referencia {r}."
        ),
        (Some(r), _) => format!("Pago de agua {utility}: {amount}, referencia {r}."),
        (None, _) => format!("Pago de agua {utility}: {amount}."),
    };
    PaymentOrderView {
        id: o.id,
        channel: o.channel.clone(),
        channel_label: channel_label(&o.channel).into(),
        amount,
        reference,
        expires,
        status: o.status.clone(),
        status_label: status_label(&o.status).into(),
        redirect_url: o.redirect_url.clone().filter(|_| o.status == "pendiente"),
        created: auth::format_local(o.created_at),
        share_text,
        card: None,
        clabe: None,
    }
}

/// The citizen's active contract, checked to be theirs.
async fn my_contract() -> Result<(i64, i64, Req), AppError> {
    let (citizen_id, contract_id, r) = citizen().await?;
    let mut tx = r.st.db.read(r.tenant).await?;
    if !repo::citizen_has_contract(&mut tx, citizen_id, contract_id).await? {
        return fail(AppError::Forbidden);
    }
    Ok((citizen_id, contract_id, r))
}

async fn utility_name(r: &Req) -> String {
    r.st.tenants
        .iter()
        .find(|t| t.id == r.tenant.0)
        .map(|t| t.short_name.clone())
        .unwrap_or_default()
}

/// The references of a contract, newest first.
pub(crate) async fn orders_of(
    tx: &mut db::Scoped,
    contract_id: i64,
    utility: &str,
) -> Result<Vec<PaymentOrderView>, AppError> {
    Ok(invoicing::orders::of_contract(tx, contract_id, Utc::now())
        .await?
        .iter()
        .map(|o| order_view(o, utility))
        .collect())
}

/// The bill proposed as "recibo actual": the one asked for if it is still owed, else
/// the oldest one owed.
fn proposed_bill(
    open: &[payments::allocate::OpenBill],
    recibo: Option<i64>,
) -> Option<&payments::allocate::OpenBill> {
    let mut owed: Vec<_> = open.iter().filter(|b| b.owed_centavos > 0).collect();
    owed.sort_by_key(|b| b.due_date);
    recibo
        .and_then(|id| owed.iter().copied().find(|b| b.invoice_id == id))
        .or(owed.first().copied())
}

pub async fn options(recibo: Option<i64>) -> Result<PayChoices, AppError> {
    let (_, contract_id, r) = my_contract().await?;
    let utility = utility_name(&r).await;
    let mut tx = r.st.db.read(r.tenant).await?;
    let Some(account) = repo::account_by_id(&mut tx, contract_id).await? else {
        return fail(AppError::NotFound);
    };
    let open = invoicing::cobro::open_bills(&mut tx, &account).await?;
    let bill = match proposed_bill(&open, recibo) {
        Some(b) => {
            let inv = db::billing::invoice_by_id(&mut tx, b.invoice_id).await?;
            inv.map(|inv| {
                (
                    b.invoice_id,
                    format!("Recibo {}", period_label(inv.period)),
                    Money::from_centavos(b.owed_centavos).format_mxn(),
                )
            })
        }
        None => None,
    };
    Ok(PayChoices {
        number: account.number.clone(),
        bill,
        balance: (account.balance_centavos > 0)
            .then(|| Money::from_centavos(account.balance_centavos).format_mxn()),
        spei_clabe: invoicing::cobro::spei_clabe(&mut tx, contract_id).await?,
        spei_by_conekta: r.st.payments.conekta.is_some(),
        oxxo_available: r.st.payments.conekta.is_some(),
        card_available: r.st.payments.conekta.is_some() && r.st.payments.checkout.is_some(),
        clave: uuid::Uuid::new_v4().to_string(),
        orders: orders_of(&mut tx, contract_id, &utility).await?,
    })
}

pub async fn create(
    metodo: String,
    opcion: String,
    otro: Option<String>,
    recibo: Option<i64>,
    clave: String,
) -> Result<PaymentOrderView, AppError> {
    let (citizen_id, contract_id, r) = my_contract().await?;
    let clave = idempotency_key(clave).await?;
    let utility = utility_name(&r).await;
    let (amount, invoice_id) = {
        let mut tx = r.st.db.read(r.tenant).await?;
        let Some(account) = repo::account_by_id(&mut tx, contract_id).await? else {
            return fail(AppError::NotFound);
        };
        match opcion.as_str() {
            "recibo" => {
                let open = invoicing::cobro::open_bills(&mut tx, &account).await?;
                match proposed_bill(&open, recibo) {
                    Some(b) => (b.owed_centavos, Some(b.invoice_id)),
                    None => {
                        return fail(AppError::invalid(
                            "opcion",
                            "No tienes recibos pendientes de pago; elige otra cantidad.",
                        ));
                    }
                }
            }
            "saldo" if account.balance_centavos > 0 => (account.balance_centavos, None),
            "saldo" => {
                return fail(AppError::invalid(
                    "opcion",
                    "No tienes saldo por pagar; elige otra cantidad.",
                ));
            }
            "otro" => match Money::parse(otro.as_deref().unwrap_or("")) {
                Ok(m) if m > Money::ZERO => (m.centavos(), None),
                Ok(_) => {
                    return fail(AppError::invalid(
                        "otro",
                        "Escribe un importe mayor que cero.",
                    ));
                }
                Err(e) => return fail(AppError::invalid("otro", e.message)),
            },
            _ => return fail(AppError::invalid("opcion", "Elige cuánto quieres pagar.")),
        }
    };
    use invoicing::orders::Method;
    let method = match metodo.as_str() {
        "oxxo" => Method::Oxxo,
        "codi" => Method::Codi,
        "spei" => {
            let mut tx = r.st.db.read(r.tenant).await?;
            if let Some(clabe) = invoicing::cobro::spei_clabe(&mut tx, contract_id).await? {
                return Ok(PaymentOrderView {
                    id: 0,
                    channel: "spei".into(),
                    channel_label: "SPEI".into(),
                    amount: Money::from_centavos(amount).format_mxn(),
                    reference: Some(clabe.clone()),
                    expires: None,
                    status: "pendiente".into(),
                    status_label: "Transfiera desde su banco".into(),
                    redirect_url: None,
                    created: auth::format_local(Utc::now()),
                    share_text: format!(
                        "Pago de agua {utility}: transferir {} por SPEI a la CLABE {clabe} (banco STP).",
                        Money::from_centavos(amount).format_mxn()
                    ),
                    card: None,
                    clabe: Some(clabe.clone()),
                });
            }
            // No STP concentradora: a CLABE for this payment from Conekta.
            if r.st.payments.conekta.is_none() {
                return fail(AppError::invalid(
                    "metodo",
                    "Este organismo aún no recibe transferencias SPEI; paga en sus oficinas.",
                ));
            }
            Method::ConektaSpei
        }
        "tarjeta" => {
            let Some(checkout) = r.st.payments.checkout.clone() else {
                return fail(AppError::invalid(
                    "metodo",
                    "Por ahora no recibimos tarjetas en línea; elige OXXO o SPEI.",
                ));
            };
            return Ok(PaymentOrderView {
                id: 0,
                channel: "card".into(),
                channel_label: "Tarjeta".into(),
                amount: Money::from_centavos(amount).format_mxn(),
                reference: None,
                expires: None,
                status: "capturar".into(),
                status_label: "Escribe los datos de tu tarjeta".into(),
                redirect_url: None,
                created: auth::format_local(Utc::now()),
                share_text: String::new(),
                clabe: None,
                card: Some(CardStep {
                    importe_centavos: amount,
                    recibo: invoice_id,
                    clave,
                    public_key: checkout.public_key,
                    script_url: checkout.script_url,
                }),
            });
        }
        _ => return fail(AppError::invalid("metodo", "Elige cómo quieres pagar.")),
    };
    let req = invoicing::orders::NewOrderRequest {
        contract_id,
        citizen_id: Some(citizen_id),
        invoice_id,
        amount_centavos: amount,
        method,
        idempotency_key: clave,
    };
    match invoicing::orders::create(&r.st.db, r.tenant, &r.st.payments, &req, Utc::now()).await {
        Ok(o) => {
            let mut v = order_view(&o, &utility);
            v.clabe = match o.channel.as_str() {
                // CoDi pays to the contract's own CLABE; Conekta's SPEI to the order's.
                "codi" => {
                    let mut tx = r.st.db.read(r.tenant).await?;
                    invoicing::cobro::spei_clabe(&mut tx, contract_id).await?
                }
                "spei" => o.reference.clone(),
                _ => None,
            };
            Ok(v)
        }
        Err(invoicing::Error::Invalid { field, message }) => {
            let field = match field {
                "importe" if opcion == "otro" => "otro",
                "importe" => "opcion",
                f => f,
            };
            fail(AppError::invalid(field, message))
        }
        Err(e) => fail(e.into()),
    }
}

/// The second step of a card payment: charge the token Conekta.js made.
pub async fn pay_card(
    importe_centavos: i64,
    recibo: Option<i64>,
    clave: String,
    token: String,
) -> Result<PaymentOrderView, AppError> {
    let (citizen_id, contract_id, r) = my_contract().await?;
    let clave = idempotency_key(clave).await?;
    let utility = utility_name(&r).await;
    let token = token.trim();
    if !token.starts_with("tok_") || token.len() > 100 {
        return fail(AppError::invalid(
            "tarjeta",
            "No pudimos leer tu tarjeta. Vuelve a escribir sus datos.",
        ));
    }
    let req = invoicing::orders::NewOrderRequest {
        contract_id,
        citizen_id: Some(citizen_id),
        invoice_id: recibo,
        amount_centavos: importe_centavos,
        method: invoicing::orders::Method::Card {
            token_id: token.to_string(),
            return_url: format!("{}/cuenta/pagar/tarjeta", r.origin()),
        },
        idempotency_key: clave,
    };
    match invoicing::orders::create(&r.st.db, r.tenant, &r.st.payments, &req, Utc::now()).await {
        Ok(o) => Ok(order_view(&o, &utility)),
        Err(invoicing::Error::Invalid { field, message }) => {
            let field = if field == "clave" { "clave" } else { "tarjeta" };
            fail(AppError::invalid(field, message))
        }
        Err(e) => fail(e.into()),
    }
}

pub async fn card_result(order_id: String) -> Result<CardPaymentStatus, AppError> {
    let (_, contract_id, r) = my_contract().await?;
    let (order, outcome) = invoicing::orders::card_outcome(
        &r.st.db,
        r.tenant,
        &r.st.payments,
        contract_id,
        order_id.trim(),
    )
    .await?;
    let amount = Money::from_centavos(order.amount_centavos).format_mxn();
    use invoicing::orders::CardOutcome as O;
    let (status, message, receipt_id) = match outcome {
        O::Confirmed { received_id } => (
            "confirmado",
            format!("Tu pago de {amount} con tarjeta ya está aplicado a tu cuenta."),
            received_id,
        ),
        O::Approved => (
            "aprobado",
            format!(
                "Tu banco aprobó el pago de {amount}. Lo aplicamos a tu cuenta en unos minutos."
            ),
            None,
        ),
        O::Declined { message } => (
            "rechazado",
            format!(
                "El pago de {amount} no se completó: {message} Puedes intentar con otra tarjeta, o pagar en OXXO o por transferencia SPEI."
            ),
            None,
        ),
        O::Pending => (
            "pendiente",
            format!("Tu pago de {amount} está en proceso. Revisa en unos minutos."),
            None,
        ),
    };
    Ok(CardPaymentStatus {
        status: status.into(),
        amount,
        message,
        receipt_id,
    })
}

/// `GET /cuenta/pagos/{id}/codi.png`: the QR of one of the citizen's CoDi requests.
pub async fn codi_qr(State(st): State<AppState>, Path(id): Path<i64>, req: Request) -> Response {
    let h = req.headers();
    let r = Req::from_headers(st.clone(), h, peer_of(&req));
    let (citizen_id, _) = match citizen_of(&r).await {
        Ok(c) => c,
        Err(e) => return handler_error(e, h, "/entrar"),
    };
    let utility = utility_name(&r).await;
    let png = async {
        let mut tx = st.db.read(r.tenant).await?;
        let Some(o) = db::payments::order_by_id(&mut tx, id).await? else {
            return Err(AppError::NotFound);
        };
        if !repo::citizen_has_contract(&mut tx, citizen_id, o.contract_id).await? {
            return Err(AppError::NotFound);
        }
        let request = invoicing::orders::codi_request(&mut tx, &o, &utility).await?;
        payments::codi::qr_png(&request.qr_text(), 6)
            .map_err(|e| AppError::invalid("codi", e.to_string()))
    }
    .await;
    match png {
        Ok(png) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("image/png")),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, max-age=86400"),
                ),
            ],
            png,
        )
            .into_response(),
        Err(e) => handler_error(e, h, "/entrar"),
    }
}

/// `GET /cuenta/pagos/{id}/codigo.png`: the Code 128 barcode of one of the citizen's
/// OXXO references.
pub async fn barcode(State(st): State<AppState>, Path(id): Path<i64>, req: Request) -> Response {
    let h = req.headers();
    let r = Req::from_headers(st.clone(), h, peer_of(&req));
    let (citizen_id, _) = match citizen_of(&r).await {
        Ok(c) => c,
        Err(e) => return handler_error(e, h, "/entrar"),
    };
    let reference = async {
        let mut tx = st.db.read(r.tenant).await?;
        let Some(o) = db::payments::order_by_id(&mut tx, id).await? else {
            return Err(AppError::NotFound);
        };
        if !repo::citizen_has_contract(&mut tx, citizen_id, o.contract_id).await? {
            return Err(AppError::NotFound);
        }
        o.reference.ok_or(AppError::NotFound)
    }
    .await;
    let reference = match reference {
        Ok(r) => r,
        Err(e) => return handler_error(e, h, "/entrar"),
    };
    match payments::barcode::code128_png(&reference, 3, 90) {
        Ok(png) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("image/png")),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_str(&format!(
                        "inline; filename=\"referencia-{reference}.png\""
                    ))
                    .unwrap_or(HeaderValue::from_static("inline")),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, max-age=86400"),
                ),
            ],
            png,
        )
            .into_response(),
        Err(e) => handler_error(AppError::invalid("referencia", e.to_string()), h, "/entrar"),
    }
}

fn history_row(p: &db::payments::ReceivedRow) -> PaymentHistoryRow {
    PaymentHistoryRow {
        id: p.id,
        date: auth::format_local(p.received_at),
        method: invoicing::caja::channel_label(&p.channel).into(),
        amount: Money::from_centavos(p.amount_centavos).format_mxn(),
        reference: p.reference.clone(),
    }
}

pub async fn history() -> Result<Vec<PaymentHistoryRow>, AppError> {
    let (_, contract_id, r) = my_contract().await?;
    let mut tx = r.st.db.read(r.tenant).await?;
    Ok(
        db::payments::received_of_contract(&mut tx, contract_id, 500)
            .await?
            .iter()
            .map(history_row)
            .collect(),
    )
}

/// `GET /cuenta/pagos.csv`: the active contract's payment history as CSV (UTF-8 with
/// BOM so spreadsheet programs read the accents).
pub async fn history_csv(State(st): State<AppState>, req: Request) -> Response {
    let h = req.headers();
    let r = Req::from_headers(st.clone(), h, peer_of(&req));
    let (citizen_id, contract_id) = match citizen_of(&r).await {
        Ok(c) => c,
        Err(e) => return handler_error(e, h, "/entrar"),
    };
    let rows = async {
        let mut tx = st.db.read(r.tenant).await?;
        if !repo::citizen_has_contract(&mut tx, citizen_id, contract_id).await? {
            return Err(AppError::NotFound);
        }
        let number = repo::account_by_id(&mut tx, contract_id)
            .await?
            .map(|a| a.number)
            .unwrap_or_default();
        Ok::<_, AppError>((
            number,
            db::payments::received_of_contract(&mut tx, contract_id, 10_000).await?,
        ))
    }
    .await;
    let (number, rows) = match rows {
        Ok(x) => x,
        Err(e) => return handler_error(e, h, "/entrar"),
    };
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let mut write = || -> Result<Vec<u8>, csv::Error> {
        w.write_record(["fecha", "forma de pago", "importe", "referencia", "folio"])?;
        for p in &rows {
            let v = history_row(p);
            let pesos = format!("{}.{:02}", p.amount_centavos / 100, p.amount_centavos % 100);
            w.write_record([
                v.date.as_str(),
                v.method.as_str(),
                pesos.as_str(),
                v.reference.as_str(),
                &format!("PAGO-{:08}", p.id),
            ])?;
        }
        w.flush()?;
        Ok(w.get_ref().clone())
    };
    match write() {
        Ok(bytes) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/csv; charset=utf-8"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_str(&format!("attachment; filename=\"pagos-{number}.csv\""))
                        .unwrap_or(HeaderValue::from_static("attachment")),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, no-store"),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => handler_error(AppError::Internal, h, "/entrar"),
    }
}

/// `GET /cuenta/pagos/{id}/recibo.pdf`: the receipt of one of the citizen's payments.
pub async fn receipt(State(st): State<AppState>, Path(id): Path<i64>, req: Request) -> Response {
    let h = req.headers();
    let r = Req::from_headers(st.clone(), h, peer_of(&req));
    let (citizen_id, contract_id) = match citizen_of(&r).await {
        Ok(c) => c,
        Err(e) => return handler_error(e, h, "/entrar"),
    };
    let allowed = async {
        let mut tx = st.db.read(r.tenant).await?;
        repo::citizen_has_contract(&mut tx, citizen_id, contract_id).await
    }
    .await;
    if !matches!(allowed, Ok(true)) {
        return handler_error(AppError::NotFound, h, "/entrar");
    }
    match invoicing::caja::receipt(&st.db, r.tenant, id, None, Some(contract_id)).await {
        Ok(pdf) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/pdf"),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, no-store"),
                ),
            ],
            pdf,
        )
            .into_response(),
        Err(e) => handler_error(e.into(), h, "/entrar"),
    }
}
