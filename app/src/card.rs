//! Card tokenization in the browser with Conekta.js: the card the citizen typed goes
//! from the page straight to Conekta, which answers a single-use token (`tok_…`); only
//! that token is sent to our server. On the server this module only says it cannot.

/// The card as typed (never serialized towards our server).
#[derive(Debug, Clone)]
pub struct CardInput {
    pub name: String,
    pub number: String,
    /// "MM/AA" as typed.
    pub expiry: String,
    pub cvc: String,
}

/// Why a card was not tokenized: the form field it concerns (`numero`, `vence`, `cvv`,
/// `nombre`, or none) and Conekta's message for the payer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardError {
    pub field: Option<&'static str>,
    pub message: String,
}

impl CardError {
    fn new(field: Option<&'static str>, message: impl Into<String>) -> CardError {
        CardError {
            field,
            message: message.into(),
        }
    }
}

/// Checks made before the card leaves the page (Conekta checks again).
pub fn precheck(card: &CardInput) -> Result<(String, String), CardError> {
    if card.name.trim().is_empty() {
        return Err(CardError::new(
            Some("nombre"),
            "Escribe el nombre como aparece en la tarjeta.",
        ));
    }
    let digits: String = card.number.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() < 13 || digits.len() > 19 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(CardError::new(
            Some("numero"),
            "Escribe los 16 dígitos de tu tarjeta (15 en American Express).",
        ));
    }
    let expiry: String = card.expiry.chars().filter(|c| !c.is_whitespace()).collect();
    let parts = expiry
        .split_once('/')
        .map(|(m, y)| (m.to_string(), y.to_string()))
        .or_else(|| {
            (expiry.len() == 4 && expiry.chars().all(|c| c.is_ascii_digit()))
                .then(|| (expiry[..2].to_string(), expiry[2..].to_string()))
        });
    let Some((month, year)) = parts.filter(|(m, y)| {
        m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
            && (y.len() == 2 || y.len() == 4)
            && y.chars().all(|c| c.is_ascii_digit())
    }) else {
        return Err(CardError::new(
            Some("vence"),
            "Escribe el vencimiento como aparece en la tarjeta, por ejemplo 08/29.",
        ));
    };
    let cvc = card.cvc.trim();
    if !(3..=4).contains(&cvc.len()) || !cvc.chars().all(|c| c.is_ascii_digit()) {
        return Err(CardError::new(
            Some("cvv"),
            "Escribe los 3 dígitos del reverso de tu tarjeta (4 al frente en American Express).",
        ));
    }
    Ok((month, year))
}

/// Conekta's `param` → our field.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn field_of(param: &str) -> Option<&'static str> {
    match param {
        "card[number]" => Some("numero"),
        "card[exp_month]" | "card[exp_year]" => Some("vence"),
        "card[cvc]" => Some("cvv"),
        "card[name]" => Some("nombre"),
        _ => None,
    }
}

#[cfg(feature = "hydrate")]
pub async fn tokenize(
    script_url: &str,
    public_key: &str,
    card: &CardInput,
) -> Result<String, CardError> {
    use js_sys::{Function, Object, Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    let (month, year) = precheck(card)?;
    let unavailable = || {
        CardError::new(
            None,
            "No pudimos conectar con el procesador de pagos. Revisa tu conexión o paga en OXXO o por SPEI.",
        )
    };
    let window = web_sys::window().ok_or_else(unavailable)?;
    let get = |o: &JsValue, k: &str| Reflect::get(o, &JsValue::from_str(k)).ok();
    let loaded = |w: &JsValue| get(w, "Conekta").filter(|c| !c.is_undefined());
    if loaded(&window).is_none() {
        // Load Conekta.js once, and wait for it.
        let document = window.document().ok_or_else(unavailable)?;
        let script = document
            .create_element("script")
            .map_err(|_| unavailable())?;
        script
            .set_attribute("src", script_url)
            .map_err(|_| unavailable())?;
        let wait = Promise::new(&mut |resolve, reject| {
            let _ = script.add_event_listener_with_callback("load", &resolve);
            let _ = script.add_event_listener_with_callback("error", &reject);
        });
        let body = document.body().ok_or_else(unavailable)?;
        body.append_child(&script).map_err(|_| unavailable())?;
        JsFuture::from(wait).await.map_err(|_| unavailable())?;
    }
    let conekta = loaded(&window).ok_or_else(unavailable)?;
    let set_key: Function = get(&conekta, "setPublicKey")
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(unavailable)?;
    set_key
        .call1(&conekta, &JsValue::from_str(public_key))
        .map_err(|_| unavailable())?;
    let token_api = get(&conekta, "Token").ok_or_else(unavailable)?;
    let create: Function = get(&token_api, "create")
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(unavailable)?;
    let details = Object::new();
    let set = |k: &str, v: &str| {
        let _ = Reflect::set(&details, &JsValue::from_str(k), &JsValue::from_str(v));
    };
    set(
        "number",
        &card
            .number
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>(),
    );
    set("name", card.name.trim());
    set("exp_month", &month);
    set("exp_year", &year);
    set("cvc", card.cvc.trim());
    let params = Object::new();
    let _ = Reflect::set(&params, &JsValue::from_str("card"), &details);
    let answer = Promise::new(&mut |resolve, reject| {
        if create
            .call3(&token_api, &params, &resolve, &reject)
            .is_err()
        {
            let _ = reject.call0(&JsValue::NULL);
        }
    });
    match JsFuture::from(answer).await {
        Ok(token) => get(&token, "id")
            .and_then(|id| id.as_string())
            .filter(|id| id.starts_with("tok_"))
            .ok_or_else(unavailable),
        Err(e) => {
            let message = get(&e, "message_to_purchaser").and_then(|m| m.as_string());
            let field = get(&e, "param")
                .and_then(|p| p.as_string())
                .and_then(|p| field_of(&p));
            Err(match message {
                Some(m) => CardError::new(field, m),
                None => unavailable(),
            })
        }
    }
}

#[cfg(not(feature = "hydrate"))]
pub async fn tokenize(
    _script_url: &str,
    _public_key: &str,
    card: &CardInput,
) -> Result<String, CardError> {
    precheck(card)?;
    Err(CardError::new(
        None,
        "Para pagar con tarjeta, activa JavaScript en tu navegador.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(number: &str, expiry: &str, cvc: &str) -> CardInput {
        CardInput {
            name: "Ana López".into(),
            number: number.into(),
            expiry: expiry.into(),
            cvc: cvc.into(),
        }
    }

    #[test]
    fn expiry_is_read_as_typed() {
        assert_eq!(
            precheck(&card("4242 4242 4242 4242", "08/29", "123")),
            Ok(("08".into(), "29".into()))
        );
        assert_eq!(
            precheck(&card("4242424242424242", "0829", "123")),
            Ok(("08".into(), "29".into()))
        );
        assert_eq!(
            precheck(&card("4242424242424242", "13/29", "123")).map_err(|e| e.field),
            Err(Some("vence"))
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(
            precheck(&card("4242", "08/29", "123")).map_err(|e| e.field),
            Err(Some("numero"))
        );
        assert_eq!(
            precheck(&card("4242424242424242", "08/29", "12")).map_err(|e| e.field),
            Err(Some("cvv"))
        );
        let mut c = card("4242424242424242", "08/29", "123");
        c.name = " ".into();
        assert_eq!(precheck(&c).map_err(|e| e.field), Err(Some("nombre")));
        assert_eq!(field_of("card[cvc]"), Some("cvv"));
    }
}
