//! The SOAP 1.1 wire: request envelopes with a WS-Security UsernameToken, response
//! envelopes, faults. Both sides of it live here — the client writes requests and reads
//! responses; the simulator reads requests and writes responses — so the two cannot
//! drift apart.
//!
//! AquaCIS is an Axis web application: document/literal, the operation element in the
//! service's namespace, its children unqualified.

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::escape::escape;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Operation, Service};

pub const NS_SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const NS_WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
pub const NS_WSU: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
pub const PASSWORD_TEXT: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";
pub const BASE64_BINARY: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-soap-message-security-1.0#Base64Binary";
pub const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
pub const NS_XSD: &str = "http://www.w3.org/2001/XMLSchema";

/// Serialize a value as the element `root` (no prefix) with quick-xml's serde support.
fn element<T: Serialize>(root: &str, value: &T) -> Result<String, Error> {
    quick_xml::se::to_string_with_root(root, value)
        .map_err(|e| Error::Protocol(format!("no se pudo escribir <{root}>: {e}")))
}

/// Put `prefix:` on the outermost element of a serialized fragment.
fn prefixed(fragment: String, name: &str, prefix: &str) -> String {
    let mut s = fragment.replacen(&format!("<{name}"), &format!("<{prefix}:{name}"), 1);
    let end = format!("</{name}>");
    if s.ends_with(&end) {
        s.truncate(s.len() - end.len());
        s.push_str(&format!("</{prefix}:{name}>"));
    }
    s
}

/// The credentials AquaCIS checks on every call (WS-Security UsernameToken profile,
/// PasswordText over TLS, with a nonce and a creation time).
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// A request envelope for operation `O`, with its UsernameToken (or none: the
/// simulator's tests send that to prove AquaCIS's 500).
pub fn request<O: Operation>(
    op: &O,
    credentials: Option<&Credentials>,
    now: DateTime<Utc>,
) -> Result<String, Error> {
    let body = prefixed(element(O::NAME, op)?, O::NAME, "ws");
    let header = match credentials {
        Some(c) => {
            let nonce: [u8; 16] = rand::random();
            let nonce = base64::engine::general_purpose::STANDARD.encode(nonce);
            format!(
                concat!(
                    "<soapenv:Header><wsse:Security soapenv:mustUnderstand=\"1\" xmlns:wsse=\"{wsse}\" xmlns:wsu=\"{wsu}\">",
                    "<wsse:UsernameToken wsu:Id=\"UsernameToken-{id}\"><wsse:Username>{user}</wsse:Username>",
                    "<wsse:Password Type=\"{pt}\">{pass}</wsse:Password>",
                    "<wsse:Nonce EncodingType=\"{b64}\">{nonce}</wsse:Nonce>",
                    "<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security></soapenv:Header>"
                ),
                wsse = NS_WSSE,
                wsu = NS_WSU,
                id = hex_id(&nonce),
                user = escape(c.username.as_str()),
                pt = PASSWORD_TEXT,
                pass = escape(c.password.as_str()),
                b64 = BASE64_BINARY,
                nonce = nonce,
                created = now.to_rfc3339_opts(SecondsFormat::Millis, true),
            )
        }
        None => "<soapenv:Header/>".to_owned(),
    };
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soapenv:Envelope xmlns:soapenv=\"{NS_SOAP}\" xmlns:ws=\"{ns}\">{header}<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>",
        ns = O::SERVICE.namespace()
    ))
}

fn hex_id(nonce: &str) -> String {
    nonce
        .bytes()
        .take(8)
        .map(|b| format!("{b:02X}"))
        .collect::<String>()
}

/// A response envelope as AquaCIS writes it (the simulator's side).
pub fn response<R: Serialize>(name: &str, service: Service, resp: &R) -> Result<String, Error> {
    let tag = format!("{name}Response");
    let body = prefixed(element(&tag, resp)?, &tag, "ns1");
    let body = body.replacen(
        &format!("<ns1:{tag}"),
        &format!("<ns1:{tag} xmlns:ns1=\"{}\"", service.namespace()),
        1,
    );
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><soapenv:Envelope xmlns:soapenv=\"{NS_SOAP}\" xmlns:xsd=\"{NS_XSD}\" xmlns:xsi=\"{NS_XSI}\"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    ))
}

/// A SOAP fault as Axis writes it.
pub fn fault(code: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><soapenv:Envelope xmlns:soapenv=\"{NS_SOAP}\" xmlns:xsd=\"{NS_XSD}\" xmlns:xsi=\"{NS_XSI}\"><soapenv:Body><soapenv:Fault><faultcode>{}</faultcode><faultstring>{}</faultstring><detail><ns1:hostname xmlns:ns1=\"http://xml.apache.org/axis/\">aquacis-cf</ns1:hostname></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>",
        escape(code),
        escape(message)
    )
}

/// The Body's payload element: its local name and its byte range in the text.
fn body_child(doc: &roxmltree::Document<'_>) -> Result<(String, std::ops::Range<usize>), Error> {
    let root = doc.root_element();
    if root.tag_name().name() != "Envelope" || root.tag_name().namespace() != Some(NS_SOAP) {
        return Err(Error::Protocol("no es un sobre SOAP 1.1".into()));
    }
    let body = root
        .children()
        .find(|n| n.is_element() && n.tag_name().name() == "Body")
        .ok_or_else(|| Error::Protocol("el sobre SOAP no tiene Body".into()))?;
    let child = body
        .children()
        .find(|n| n.is_element())
        .ok_or_else(|| Error::Protocol("el Body SOAP está vacío".into()))?;
    if child.tag_name().name() == "Fault" {
        let text = |name: &str| {
            child
                .children()
                .find(|n| n.is_element() && n.tag_name().name() == name)
                .and_then(|n| n.text())
                .unwrap_or("")
                .trim()
                .to_owned()
        };
        return Err(Error::Fault {
            code: text("faultcode"),
            message: text("faultstring"),
        });
    }
    Ok((child.tag_name().name().to_owned(), child.range()))
}

fn decode<T: DeserializeOwned>(text: &str, range: std::ops::Range<usize>) -> Result<T, Error> {
    quick_xml::de::from_str(&text[range]).map_err(|e| Error::Protocol(e.to_string()))
}

/// Read operation `O`'s response (a fault becomes [`Error::Fault`]).
pub fn read_response<O: Operation>(text: &str) -> Result<O::Response, Error> {
    let doc = roxmltree::Document::parse(text)
        .map_err(|e| Error::Protocol(format!("XML mal formado: {e}")))?;
    let (name, range) = body_child(&doc)?;
    if name != format!("{}Response", O::NAME) {
        return Err(Error::Protocol(format!(
            "se esperaba {}Response y llegó {name}",
            O::NAME
        )));
    }
    decode(text, range)
}

/// A request as the server sees it: the operation's name, the UsernameToken if any,
/// and where the operation element is.
#[derive(Debug)]
pub struct Incoming {
    pub operation: String,
    pub username_token: Option<Credentials>,
    range: std::ops::Range<usize>,
}

impl Incoming {
    pub fn parse(text: &str) -> Result<Self, Error> {
        let doc = roxmltree::Document::parse(text)
            .map_err(|e| Error::Protocol(format!("XML mal formado: {e}")))?;
        let (operation, range) = body_child(&doc)?;
        let token = doc
            .descendants()
            .find(|n| {
                n.tag_name().name() == "UsernameToken" && n.tag_name().namespace() == Some(NS_WSSE)
            })
            .map(|t| {
                let field = |name: &str| {
                    t.children()
                        .find(|n| n.is_element() && n.tag_name().name() == name)
                        .and_then(|n| n.text())
                        .unwrap_or("")
                        .to_owned()
                };
                Credentials {
                    username: field("Username"),
                    password: field("Password"),
                }
            });
        Ok(Incoming {
            operation,
            username_token: token,
            range,
        })
    }

    /// The operation's fields, typed.
    pub fn decode<O: Operation>(&self, text: &str) -> Result<O, Error> {
        decode(text, self.range.clone())
    }
}
