//! The wire format, both ways, and AquaCIS's defects as they appear on the wire.

use chrono::{TimeZone, Utc};
use legacy::ops::*;
use legacy::wire::{self, Credentials, Incoming};
use legacy::{Error, Operation, Service};
use rust_decimal::Decimal;

fn creds() -> Credentials {
    Credentials {
        username: "supra".into(),
        password: "s3cr<et".into(),
    }
}

#[test]
fn request_carries_a_username_token_and_round_trips() {
    let op = AvisarPago {
        num_contrato: "100234".into(),
        importe: Decimal::new(123456, 2),
        fecha_pago: chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        forma_pago: "03".into(),
        referencia_externa: "SUPRA-77".into(),
    };
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
    let xml = wire::request(&op, Some(&creds()), now).unwrap();
    assert!(xml.contains("<ws:avisarPago>"), "{xml}");
    assert!(xml.contains(&Service::Debt.namespace()));
    assert!(xml.contains("<wsu:Created>2026-11-24T10:00:00.000Z</wsu:Created>"));
    let incoming = Incoming::parse(&xml).unwrap();
    assert_eq!(incoming.operation, "avisarPago");
    let token = incoming.username_token.as_ref().unwrap();
    assert_eq!(
        (token.username.as_str(), token.password.as_str()),
        ("supra", "s3cr<et")
    );
    assert_eq!(incoming.decode::<AvisarPago>(&xml).unwrap(), op);
    // Amounts are exact text, never floats.
    assert!(xml.contains("<importe>1234.56</importe>"));
}

#[test]
fn misspelled_fields_are_sent_misspelled() {
    let op = ResolveOt {
        ot_id: 9,
        numero_serie: "M-123".into(),
        comentarios: "Se cambió el medidor".into(),
        codigo_resolucion: "OK".into(),
    };
    let xml = wire::request(&op, Some(&creds()), Utc::now()).unwrap();
    assert!(
        xml.contains("<busVHFumberSerie>M-123</busVHFumberSerie>"),
        "{xml}"
    );
    assert!(xml.contains("<vistitComments>Se cambió el medidor</vistitComments>"));
    let op = CambiarEmailNotificacionPersona {
        nif: "GOMA800101ABC".into(),
        email_antiguo: "a@x.mx".into(),
        email_nuevo: "b@x.mx".into(),
    };
    let xml = wire::request(&op, Some(&creds()), Utc::now()).unwrap();
    assert!(xml.contains("<emailAntigo>a@x.mx</emailAntigo>"), "{xml}");
}

#[test]
fn refresh_data_always_asks_for_class_one() {
    let xml = wire::request(&RefreshData::new(5, "QRO-01"), Some(&creds()), Utc::now()).unwrap();
    assert!(xml.contains("<otClassID>1</otClassID>"), "{xml}");
    assert!(xml.contains("<operationalSiteID>QRO-01</operationalSiteID>"));
}

const ENV: &str = r#"<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>BODY</soapenv:Body></soapenv:Envelope>"#;

#[test]
fn reultado_is_read_as_resultado() {
    let body = r#"<ns1:getDeudaResponse xmlns:ns1="urn:x"><codigoError xsi:type="xsd:int">0</codigoError><reultado><numContrato>100234</numContrato><deudaTotal>845.10</deudaTotal><numFacturasPendientes>2</numFacturasPendientes></reultado></ns1:getDeudaResponse>"#;
    let r = wire::read_response::<GetDeuda>(&ENV.replace("BODY", body)).unwrap();
    let d = r.resultado.unwrap();
    assert_eq!(d.deuda_total, Decimal::new(84510, 2));
    assert_eq!(d.num_facturas_pendientes, 2);
    let body = body.replace("reultado", "resultado");
    let r = wire::read_response::<GetDeuda>(&ENV.replace("BODY", &body)).unwrap();
    assert_eq!(r.resultado.unwrap().num_contrato, "100234");
}

#[test]
fn codigo_error_as_string_or_int() {
    for (text, want) in [
        (
            r#"<codigoError xsi:type="xsd:string"> 0 </codigoError>"#,
            ErrorCode::Ok,
        ),
        (
            r#"<codigoError xsi:type="xsd:string"></codigoError>"#,
            ErrorCode::Ok,
        ),
        (
            r#"<codigoError xsi:type="xsd:int">12</codigoError>"#,
            ErrorCode::Code(12),
        ),
        (
            r#"<codigoError xsi:type="xsd:string">12</codigoError>"#,
            ErrorCode::Code(12),
        ),
        (
            r#"<codigoError xsi:type="xsd:string">OT-NO-EXISTE</codigoError>"#,
            ErrorCode::Text("OT-NO-EXISTE".into()),
        ),
    ] {
        let body = format!(
            r#"<ns1:getDocumentoOrdenTrabajoResponse xmlns:ns1="urn:x">{text}</ns1:getDocumentoOrdenTrabajoResponse>"#
        );
        let r =
            wire::read_response::<GetDocumentoOrdenTrabajo>(&ENV.replace("BODY", &body)).unwrap();
        assert_eq!(r.codigo_error, want, "{text}");
    }
}

#[test]
fn faults_and_garbage() {
    let f = wire::fault("soapenv:Server", "java.lang.NullPointerException");
    assert_eq!(
        wire::read_response::<CrearOrdenTrabajo>(&f).unwrap_err(),
        Error::Fault {
            code: "soapenv:Server".into(),
            message: "java.lang.NullPointerException".into()
        }
    );
    assert!(matches!(
        wire::read_response::<GetDeuda>("<html>502</html"),
        Err(Error::Protocol(_))
    ));
    let other = ENV.replace("BODY", "<ns1:getLecturasResponse xmlns:ns1=\"urn:x\"><codigoError>0</codigoError></ns1:getLecturasResponse>");
    assert!(matches!(
        wire::read_response::<GetDeuda>(&other),
        Err(Error::Protocol(_))
    ));
}

#[test]
fn responses_round_trip_through_the_simulator_side_writer() {
    let resp = FacturasResponse {
        codigo_error: ErrorCode::Ok,
        descripcion_error: None,
        facturas: vec![
            Factura {
                num_factura: "F-1".into(),
                periodo: "2026-10".into(),
                fecha_emision: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
                fecha_vencimiento: chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
                importe: Decimal::new(31050, 2),
                pendiente: Decimal::ZERO,
                estado: "PAGADA".into(),
            };
            2
        ],
    };
    let xml = wire::response(
        GetFacturasContrato::NAME,
        GetFacturasContrato::SERVICE,
        &resp,
    )
    .unwrap();
    assert_eq!(
        wire::read_response::<GetFacturasContrato>(&xml).unwrap(),
        resp
    );
    let empty = ContratosResponse::default();
    let xml = wire::response(GetContratosPorNif::NAME, Service::Contracts, &empty).unwrap();
    assert_eq!(
        wire::read_response::<GetContratosPorNif>(&xml).unwrap(),
        empty
    );
}
