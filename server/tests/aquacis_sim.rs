//! The AquaCIS simulator against the production client (`legacy::Client`) over real
//! HTTP: every operation of `legacy::ops` with its typed answer, AquaCIS's known
//! defects as the wire shows them, injected faults (retries for reads, a write sent
//! once, the lost reply, timeouts, the circuit breaker), and the simulator seeded from
//! the demo database on SQLite and PostgreSQL.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{NaiveDate, Utc};
use common::Backend;
use legacy::ops::*;
use legacy::wire::{self, Credentials};
use legacy::{BreakerState, Client, Config, Error, ErrorCode, Operation, Service};
use rust_decimal::Decimal;
use server::sim::aquacis::{self, AquacisSim, ContadorSim, Fault, SimData, TipoFalla};

const USER: &str = "supra";
const PASS: &str = "s3creto-aquacis";
const MARIA: &str = "GOMA800101AB1";
const JUAN: &str = "PELJ750505XY2";

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

fn contrato(num: &str, nif: &str, titular: &str, serial: &str) -> Contrato {
    Contrato {
        num_contrato: num.into(),
        nif: nif.into(),
        titular: titular.into(),
        direccion: format!("AV. CONSTITUYENTES {num}, CENTRO, QUERÉTARO, C.P. 76000"),
        estado: "ALTA".into(),
        uso: "DOMESTICO".into(),
        fecha_alta: Some(day(2015, 3, 1)),
        numero_serie_contador: Some(serial.into()),
        email: None,
        telefono: None,
        deuda: None,
    }
}

fn factura(
    num: &str,
    periodo: &str,
    due: NaiveDate,
    importe: &str,
    pendiente: &str,
    estado: &str,
) -> Factura {
    Factura {
        num_factura: num.into(),
        periodo: periodo.into(),
        fecha_emision: due - chrono::Duration::days(20),
        fecha_vencimiento: due,
        importe: dec(importe),
        pendiente: dec(pendiente),
        estado: estado.into(),
    }
}

fn contador(serial: &str, num: &str, punto: Option<i64>) -> ContadorSim {
    ContadorSim {
        contador: Contador {
            numero_serie: serial.into(),
            marca: "Itron".into(),
            calibre: "15 mm".into(),
            digitos: 5,
            fecha_instalacion: Some(day(2020, 5, 1)),
            num_contrato: Some(num.into()),
        },
        id_pto_servicio: punto,
    }
}

/// Three contracts: María's two (one owing 800.25 over two bills, one paid up) and
/// Juan's, whose meter has no service point and whose collection is blocked.
fn data() -> SimData {
    let mut maria = contrato("100001", MARIA, "MARÍA GÓMEZ ÁLVAREZ", "M-0001");
    maria.email = Some("maria@ejemplo.mx".into());
    maria.telefono = Some("4421234567".into());
    let mut maria2 = contrato("100003", MARIA, "MARÍA GÓMEZ ÁLVAREZ", "M-0003");
    maria2.deuda = Some(Decimal::ZERO);
    let mut juan = contrato("100002", JUAN, "JUAN PÉREZ LÓPEZ", "M-0002");
    juan.estado = "SUSPENDIDO".into();
    juan.uso = "COMERCIAL".into();
    juan.deuda = Some(dec("1500.00"));
    let mut d = SimData {
        contratos: vec![maria, juan, maria2],
        personas: vec![Persona {
            id_persona: 501,
            nif: MARIA.into(),
            nombre: "MARÍA".into(),
            apellido1: "GÓMEZ".into(),
            apellido2: "ÁLVAREZ".into(),
            email: Some("maria@ejemplo.mx".into()),
            telefono: Some("4421234567".into()),
        }],
        contadores: vec![
            contador("M-0001", "100001", Some(8001)),
            contador("M-0002", "100002", None),
            contador("M-0003", "100003", Some(8003)),
        ],
        ..SimData::default()
    };
    d.facturas.insert(
        "100001".into(),
        vec![
            factura("A-1", "2024-01", day(2024, 2, 20), "300.00", "0", "PAGADA"),
            factura(
                "A-2",
                "2024-02",
                day(2024, 3, 20),
                "420.25",
                "420.25",
                "VENCIDA",
            ),
            factura(
                "A-3",
                "2024-03",
                day(2099, 12, 31),
                "380.00",
                "380.00",
                "PENDIENTE",
            ),
        ],
    );
    d.lecturas.insert(
        "100001".into(),
        vec![
            Lectura {
                fecha: day(2024, 1, 15),
                lectura: 100,
                tipo: "REAL".into(),
                observacion: None,
            },
            Lectura {
                fecha: day(2024, 2, 15),
                lectura: 112,
                tipo: "REAL".into(),
                observacion: None,
            },
            Lectura {
                fecha: day(2024, 3, 15),
                lectura: 125,
                tipo: "ESTIMADA".into(),
                observacion: None,
            },
        ],
    );
    d.actuaciones.insert(
        "100001".into(),
        vec![Actuacion {
            fecha: day(2015, 3, 1),
            tipo: "ALTA".into(),
            descripcion: "Alta del contrato".into(),
            referencia: None,
        }],
    );
    d.cambios_contador.insert(
        "100001".into(),
        vec![CambioContador {
            fecha: day(2020, 5, 1),
            serie_anterior: "M-OLD".into(),
            serie_nueva: "M-0001".into(),
            lectura_retiro: 900,
        }],
    );
    d.bloqueos
        .insert("100002".into(), "Convenio de pago vigente".into());
    d
}

fn config(url: &str) -> Config {
    let mut c = Config::new(url, USER, PASS);
    c.timeout = Duration::from_secs(5);
    c.read_retries = 2;
    c.backoff = Duration::from_millis(10);
    c.breaker_threshold = 3;
    c.breaker_cooldown = Duration::from_millis(400);
    c
}

fn client(url: &str) -> Client {
    Client::new(config(url)).expect("client")
}

async fn start() -> (Arc<AquacisSim>, String) {
    let sim = AquacisSim::new(USER, PASS);
    sim.load(data());
    let url = aquacis::spawn(sim.clone()).await.expect("spawn simulator");
    (sim, url)
}

fn creds() -> Credentials {
    Credentials {
        username: USER.into(),
        password: PASS.into(),
    }
}

/// POST a hand-made envelope to a service; (status, body).
async fn post_raw(url: &str, service: Service, body: String) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{url}{}", service.path()))
        .header("Content-Type", "text/xml; charset=utf-8")
        .body(body)
        .send()
        .await
        .expect("POST");
    let status = r.status().as_u16();
    (status, r.text().await.expect("body"))
}

/// Send `op` as the client would, with credentials, and return the raw answer.
async fn raw<O: Operation>(url: &str, op: &O) -> (u16, String) {
    let body = wire::request(op, Some(&creds()), Utc::now()).expect("request");
    post_raw(url, O::SERVICE, body).await
}

fn decoded(b64: &Option<String>) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.as_deref().expect("a document"))
        .expect("base64");
    String::from_utf8_lossy(&bytes).into_owned()
}

fn rejected_with(e: Error, code: i64) {
    match e {
        Error::Rejected { code: c, message } => {
            assert_eq!(c, ErrorCode::Code(code), "{message}");
            assert!(!message.is_empty());
        }
        other => panic!("expected codigoError {code}, got {other:?}"),
    }
}

fn n(s: &str) -> String {
    s.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_round_trips() {
    let (sim, url) = start().await;
    let c = client(&url);
    assert_eq!(ALL.len(), 34);

    // ---- contracts
    let r = c.call(&GetContratosPorNif { nif: n(MARIA) }).await.unwrap();
    let nums: Vec<&str> = r
        .contratos
        .iter()
        .map(|c| c.num_contrato.as_str())
        .collect();
    assert_eq!(nums, ["100001", "100003"]);
    assert!(r.contratos.iter().all(|c| c.deuda.is_none()));
    assert_eq!(r.contratos[0].titular, "MARÍA GÓMEZ ÁLVAREZ");

    let r = c
        .call(&GetContratosPorNifconDeuda { nif: n(MARIA) })
        .await
        .unwrap();
    assert_eq!(r.contratos.len(), 1);
    assert_eq!(r.contratos[0].num_contrato, "100001");
    assert_eq!(r.contratos[0].deuda, Some(dec("800.25")));

    let r = c.call(&GetTitularPorNif { nif: n(MARIA) }).await.unwrap();
    let p = r.persona.unwrap();
    assert_eq!(
        (p.id_persona, p.nombre.as_str(), p.apellido1.as_str()),
        (501, "MARÍA", "GÓMEZ")
    );
    // A person made from the contract's titular.
    let r = c.call(&GetTitularPorNif { nif: n(JUAN) }).await.unwrap();
    let p = r.persona.unwrap();
    assert_eq!(
        (
            p.nombre.as_str(),
            p.apellido1.as_str(),
            p.apellido2.as_str()
        ),
        ("JUAN", "PÉREZ", "LÓPEZ")
    );

    let r = c
        .call(&ConsultaDetalleContrato {
            num_contrato: n("100001"),
        })
        .await
        .unwrap();
    let k = r.contrato.unwrap();
    assert_eq!(k.deuda, Some(dec("800.25")));
    assert_eq!(k.numero_serie_contador.as_deref(), Some("M-0001"));
    assert_eq!(k.fecha_alta, Some(day(2015, 3, 1)));
    assert_eq!(k.telefono.as_deref(), Some("4421234567"));

    let r = c
        .call(&GetContrato {
            num_contrato: n("100002"),
        })
        .await
        .unwrap();
    let k = r.contrato.unwrap();
    assert_eq!(
        (k.estado.as_str(), k.uso.as_str(), k.deuda),
        ("SUSPENDIDO", "COMERCIAL", None)
    );
    assert!(k.direccion.contains("QUERÉTARO"));

    let r = c
        .call(&ConsultaHistoricoActuacionesContrato {
            num_contrato: n("100001"),
        })
        .await
        .unwrap();
    assert_eq!(r.actuaciones.len(), 1);
    assert_eq!(r.actuaciones[0].tipo, "ALTA");

    let r = c
        .call(&GetFacturasContrato {
            num_contrato: n("100001"),
        })
        .await
        .unwrap();
    let nums: Vec<&str> = r.facturas.iter().map(|f| f.num_factura.as_str()).collect();
    assert_eq!(nums, ["A-3", "A-2", "A-1"], "newest first");
    assert_eq!(r.facturas[1].pendiente, dec("420.25"));
    assert_eq!(r.facturas[1].estado, "VENCIDA");

    let r = c
        .call(&GetPdfFactura {
            num_contrato: n("100001"),
            num_factura: n("A-2"),
        })
        .await
        .unwrap();
    let doc = decoded(&r.documento);
    assert!(doc.starts_with("%PDF-1.4") && doc.contains("A-2"), "{doc}");
    let e = c
        .call(&GetPdfFactura {
            num_contrato: n("100001"),
            num_factura: n("Z-9"),
        })
        .await
        .unwrap_err();
    rejected_with(e, 2);

    let r = c
        .call(&GetFacturaE {
            num_factura: n("A-3"),
        })
        .await
        .unwrap();
    assert!(decoded(&r.documento).contains("numFactura=\"A-3\""));

    let r = c
        .call(&GetTarifaDeAguaPorContrato {
            num_contrato: n("100001"),
        })
        .await
        .unwrap();
    assert_eq!(r.codigo_tarifa.as_deref(), Some("DOM-01"));

    let r = c
        .call(&SolicitudActivacionFacturaOnline {
            num_contrato: n("100001"),
            email: n("maria@ejemplo.mx"),
        })
        .await
        .unwrap();
    assert!(r.num_solicitud.is_some());

    let r = c
        .call(&CambiarEmailNotificacionPersona {
            nif: n(MARIA),
            email_antiguo: n("maria@ejemplo.mx"),
            email_nuevo: n("maria.g@ejemplo.mx"),
        })
        .await
        .unwrap();
    assert!(r.num_solicitud.is_some());
    let p = c
        .call(&GetTitularPorNif { nif: n(MARIA) })
        .await
        .unwrap()
        .persona
        .unwrap();
    assert_eq!(p.email.as_deref(), Some("maria.g@ejemplo.mx"));
    let k = c
        .call(&GetContrato {
            num_contrato: n("100003"),
        })
        .await
        .unwrap()
        .contrato
        .unwrap();
    assert_eq!(
        k.email.as_deref(),
        Some("maria.g@ejemplo.mx"),
        "every contract of the NIF"
    );

    let r = c
        .call(&ConsultaContratosModificados {
            fecha_desde: n("2000-01-01T00:00:00Z"),
            pagina: 1,
        })
        .await
        .unwrap();
    assert_eq!(r.contratos, ["100001", "100002", "100003"]);
    assert!(!r.hay_mas);
    let watermark = chrono::DateTime::parse_from_rfc3339(&r.fecha_consulta).expect("RFC 3339");
    assert!(watermark.with_timezone(&Utc) <= Utc::now());

    // ---- debt
    let r = c
        .call(&GetDeuda {
            num_contrato: n("100001"),
        })
        .await
        .unwrap();
    let d = r.resultado.unwrap();
    assert_eq!(
        (d.deuda_total, d.num_facturas_pendientes),
        (dec("800.25"), 2)
    );
    assert!(d.facturas.is_empty());

    let r = c
        .call(&GetDeudaTotalConFacturas {
            num_contrato: n("100001"),
        })
        .await
        .unwrap();
    let d = r.resultado.unwrap();
    let nums: Vec<&str> = d.facturas.iter().map(|f| f.num_factura.as_str()).collect();
    assert_eq!(nums, ["A-3", "A-2"]);

    let r = c
        .call(&GetImpagadosContrato {
            num_contrato: n("100001"),
        })
        .await
        .unwrap();
    let d = r.resultado.unwrap();
    assert_eq!((d.deuda_total, d.facturas.len()), (dec("420.25"), 1));
    assert_eq!(d.facturas[0].num_factura, "A-2");

    let r = c
        .call(&GetDeudaContrato {
            num_contrato: n("100002"),
        })
        .await
        .unwrap();
    let d = r.resultado.unwrap();
    assert_eq!(d.deuda_total, dec("1500.00"));
    assert_eq!(
        d.conceptos.iter().map(|c| c.importe).sum::<Decimal>(),
        dec("1500.00")
    );

    let r = c
        .call(&GetDeudaContratoBloqueoCobro {
            num_contrato: n("100001"),
        })
        .await
        .unwrap();
    assert!(!r.bloqueado);
    let r = c
        .call(&GetDeudaContratoBloqueoCobro {
            num_contrato: n("100002"),
        })
        .await
        .unwrap();
    assert!(r.bloqueado);
    assert_eq!(r.motivo.as_deref(), Some("Convenio de pago vigente"));

    let r = c
        .call(&GetDocumentoPago {
            num_contrato: n("100001"),
            importe: dec("380.00"),
        })
        .await
        .unwrap();
    let referencia = r.referencia.unwrap();
    assert_eq!(r.importe, Some(dec("380.00")));
    assert!(decoded(&r.documento).contains(&referencia));

    let cobro = CobrarReferenciaFrmPago {
        referencia: referencia.clone(),
        importe: dec("380.00"),
        fecha_pago: day(2026, 11, 20),
        forma_pago: n("01"),
        referencia_externa: n("SUPRA-C-1"),
    };
    let r = c.call(&cobro).await.unwrap();
    assert!(r.id_pago.is_some());
    rejected_with(c.call(&cobro).await.unwrap_err(), 10);
    // Payments settle the oldest bills first: what is owed is the newest.
    let d = c
        .call(&GetDeudaTotalConFacturas {
            num_contrato: n("100001"),
        })
        .await
        .unwrap()
        .resultado
        .unwrap();
    assert_eq!(
        (d.deuda_total, d.num_facturas_pendientes),
        (dec("420.25"), 2)
    );
    let pending: Vec<Decimal> = d.facturas.iter().map(|f| f.pendiente).collect();
    assert_eq!(pending, [dec("380.00"), dec("40.25")]);

    let aviso = AvisarPago {
        num_contrato: n("100001"),
        importe: dec("20.25"),
        fecha_pago: day(2026, 11, 21),
        forma_pago: n("03"),
        referencia_externa: n("SUPRA-77"),
    };
    let r = c.call(&aviso).await.unwrap();
    let id = r.id_pago.unwrap();
    let avisos = sim.avisos();
    assert_eq!(avisos.len(), 1);
    assert_eq!(
        (
            avisos[0].id,
            avisos[0].importe,
            avisos[0].referencia_externa.as_str()
        ),
        (id, dec("20.25"), "SUPRA-77")
    );
    let d = c
        .call(&GetDeuda {
            num_contrato: n("100001"),
        })
        .await
        .unwrap()
        .resultado
        .unwrap();
    assert_eq!(d.deuda_total, dec("400.00"));
    let h = c
        .call(&ConsultaHistoricoActuacionesContrato {
            num_contrato: n("100001"),
        })
        .await
        .unwrap();
    assert!(
        h.actuaciones
            .iter()
            .any(|a| a.tipo == "AVISO_PAGO" && a.referencia.as_deref() == Some("SUPRA-77"))
    );

    let r = c
        .call(&GetDocumentoPago {
            num_contrato: n("100001"),
            importe: dec("100.00"),
        })
        .await
        .unwrap();
    let otra = r.referencia.unwrap();
    let r = c
        .call(&CancelarReferencia {
            referencia: otra.clone(),
            motivo: n("Pagó en ventanilla"),
        })
        .await
        .unwrap();
    assert!(r.num_solicitud.is_some());
    let e = c
        .call(&CobrarReferenciaFrmPago {
            referencia: otra,
            importe: dec("100.00"),
            ..cobro.clone()
        })
        .await
        .unwrap_err();
    rejected_with(e, 11);
    // The older operation without forma de pago collects a reference the same way.
    let otra = c
        .call(&GetDocumentoPago {
            num_contrato: n("100001"),
            importe: dec("10.00"),
        })
        .await
        .unwrap()
        .referencia
        .unwrap();
    let cobro_simple = CobrarReferencia {
        referencia: otra,
        importe: dec("10.00"),
        fecha_pago: day(2026, 11, 20),
        referencia_externa: n("SUPRA-C-2"),
    };
    assert!(c.call(&cobro_simple).await.unwrap().id_pago.is_some());
    rejected_with(c.call(&cobro_simple).await.unwrap_err(), 10);

    // ---- meters
    let r = c
        .call(&GetContador {
            numero_serie: n("M-0001"),
        })
        .await
        .unwrap();
    let m = r.contador.unwrap();
    assert_eq!(
        (m.marca.as_str(), m.digitos, m.num_contrato.as_deref()),
        ("Itron", 5, Some("100001"))
    );
    rejected_with(
        c.call(&GetContador {
            numero_serie: n("NADA"),
        })
        .await
        .unwrap_err(),
        1,
    );

    let r = c
        .call(&GetPuntoServicioPorContador {
            numero_serie: n("M-0001"),
        })
        .await
        .unwrap();
    assert_eq!(r.id_pto_servicio, Some(8001));
    assert!(r.direccion.unwrap().contains("100001"));
    let r = c
        .call(&GetPuntoServicioPorContador {
            numero_serie: n("M-0002"),
        })
        .await
        .unwrap();
    assert_eq!(r.id_pto_servicio, None);

    let r = c
        .call(&GetCambiosContadorDeContrato {
            num_contrato: n("100001"),
        })
        .await
        .unwrap();
    assert_eq!(r.cambios.len(), 1);
    assert_eq!(
        (
            r.cambios[0].serie_anterior.as_str(),
            r.cambios[0].lectura_retiro
        ),
        ("M-OLD", 900)
    );

    // ---- readings
    let r = c
        .call(&GetLecturas {
            num_contrato: n("100001"),
        })
        .await
        .unwrap();
    let values: Vec<i64> = r.lecturas.iter().map(|l| l.lectura).collect();
    assert_eq!(values, [125, 112, 100], "newest first");
    assert_eq!(r.lecturas[0].tipo, "ESTIMADA");

    let r = c
        .call(&GetConsumos {
            num_contrato: n("100001"),
        })
        .await
        .unwrap();
    let got: Vec<(&str, i64)> = r
        .consumos
        .iter()
        .map(|c| (c.periodo.as_str(), c.m3))
        .collect();
    assert_eq!(got, [("2024-03", 13), ("2024-02", 12)]);
    assert_eq!(r.consumos[1].importe, dec("420.25"));

    let r = c
        .call(&SolicitudIntroduccionLectura {
            num_contrato: n("100001"),
            lectura: 131,
            fecha: day(2024, 4, 15),
        })
        .await
        .unwrap();
    assert!(r.num_solicitud.is_some());
    let r = c
        .call(&GetLecturas {
            num_contrato: n("100001"),
        })
        .await
        .unwrap();
    assert_eq!(
        (r.lecturas[0].lectura, r.lecturas[0].tipo.as_str()),
        (131, "CLIENTE")
    );
    let e = c
        .call(&SolicitudIntroduccionLectura {
            num_contrato: n("100001"),
            lectura: 99,
            fecha: day(2024, 5, 15),
        })
        .await
        .unwrap_err();
    rejected_with(e, 8);

    // ---- work orders
    let r = c
        .call(&CrearOrdenTrabajo {
            id_pto_servicio: Some(8001),
            tipo: n("REVISION_FUGA"),
            descripcion: n("Posible fuga nocturna"),
            referencia_externa: n("OT-SUPRA-1"),
        })
        .await
        .unwrap();
    let ot = r.orden.unwrap();
    assert_eq!(
        (ot.id_pto_servicio, ot.estado.as_str(), ot.ot_class_id),
        (8001, "ABIERTA", 1)
    );

    let r = c
        .call(&RefreshData::new(ot.ot_id, &ot.operational_site_id))
        .await
        .unwrap();
    assert_eq!(r.orden.unwrap().descripcion, "Posible fuga nocturna");

    let r = c
        .call(&InformarVisita {
            ot_id: ot.ot_id,
            fecha: day(2026, 11, 22),
            resultado: n("Sin acceso"),
        })
        .await
        .unwrap();
    let o = r.orden.unwrap();
    assert_eq!((o.estado.as_str(), o.visitas), ("EN_CURSO", Some(1)));

    let r = c
        .call(&ResolveOt {
            ot_id: ot.ot_id,
            numero_serie: n("M-0001"),
            comentarios: n("Se reparó la fuga"),
            codigo_resolucion: n("OK"),
        })
        .await
        .unwrap();
    assert_eq!(r.orden.unwrap().estado, "RESUELTA");

    let r = c
        .call(&GetDocumentoOrdenTrabajo { ot_id: ot.ot_id })
        .await
        .unwrap();
    assert!(decoded(&r.documento).starts_with("%PDF"));

    // ---- an unknown contract is codigoError 1, never a fault
    for e in [
        c.call(&GetDeuda {
            num_contrato: n("999999"),
        })
        .await
        .unwrap_err(),
        c.call(&GetContrato {
            num_contrato: n("999999"),
        })
        .await
        .unwrap_err(),
        c.call(&GetLecturas {
            num_contrato: n("999999"),
        })
        .await
        .unwrap_err(),
        c.call(&AvisarPago {
            num_contrato: n("999999"),
            ..aviso.clone()
        })
        .await
        .map(|_| ())
        .unwrap_err(),
    ] {
        rejected_with(e, 1);
    }
    assert_eq!(sim.avisos().len(), 1);
    // Every operation reached the simulator.
    for (name, _, _) in ALL {
        assert!(sim.calls(name) >= 1, "{name} never called");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avisar_pago_is_not_idempotent() {
    let (sim, url) = start().await;
    let c = client(&url);
    let aviso = AvisarPago {
        num_contrato: n("100001"),
        importe: dec("100.00"),
        fecha_pago: day(2026, 11, 21),
        forma_pago: n("03"),
        referencia_externa: n("SUPRA-9"),
    };
    let a = c.call(&aviso).await.unwrap().id_pago;
    let b = c.call(&aviso).await.unwrap().id_pago;
    assert_ne!(a, b, "two payments");
    assert_eq!(sim.avisos().len(), 2);
    let d = c
        .call(&GetDeuda {
            num_contrato: n("100001"),
        })
        .await
        .unwrap()
        .resultado
        .unwrap();
    assert_eq!(d.deuda_total, dec("600.25"));
    let h = c
        .call(&ConsultaHistoricoActuacionesContrato {
            num_contrato: n("100001"),
        })
        .await
        .unwrap();
    let twice = h
        .actuaciones
        .iter()
        .filter(|a| a.tipo == "AVISO_PAGO" && a.referencia.as_deref() == Some("SUPRA-9"))
        .count();
    assert_eq!(twice, 2);
}

// ---------------------------------------------------------------- defects

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debt_answers_spell_reultado() {
    let (_sim, url) = start().await;
    let num = n("100001");
    for (status, body) in [
        raw(
            &url,
            &GetDeuda {
                num_contrato: num.clone(),
            },
        )
        .await,
        raw(
            &url,
            &GetDeudaTotalConFacturas {
                num_contrato: num.clone(),
            },
        )
        .await,
        raw(
            &url,
            &GetImpagadosContrato {
                num_contrato: num.clone(),
            },
        )
        .await,
        raw(
            &url,
            &GetDeudaContrato {
                num_contrato: num.clone(),
            },
        )
        .await,
    ] {
        assert_eq!(status, 200);
        assert!(
            body.contains("<reultado>") && !body.contains("<resultado>"),
            "{body}"
        );
        assert!(
            body.contains("<codigoError xsi:type=\"xsd:int\">0</codigoError>"),
            "{body}"
        );
    }
    let (_, body) = raw(
        &url,
        &GetDeudaContratoBloqueoCobro {
            num_contrato: num.clone(),
        },
    )
    .await;
    assert!(!body.contains("reultado"), "{body}");
    // The client reads them all the same.
    let c = client(&url);
    let d = c
        .call(&GetDeuda {
            num_contrato: num.clone(),
        })
        .await
        .unwrap();
    assert_eq!(d.resultado.unwrap().deuda_total, dec("800.25"));
    let d = c
        .call(&GetDeudaContrato { num_contrato: num })
        .await
        .unwrap();
    assert_eq!(d.resultado.unwrap().deuda_total, dec("800.25"));
}

async fn new_order(c: &Client, punto: i64) -> OrdenTrabajo {
    c.call(&CrearOrdenTrabajo {
        id_pto_servicio: Some(punto),
        tipo: n("CAMBIO_MEDIDOR"),
        descripcion: n("Medidor detenido"),
        referencia_externa: n("OT-SUPRA-2"),
    })
    .await
    .unwrap()
    .orden
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documento_orden_trabajo_codigo_error_is_a_string() {
    let (_sim, url) = start().await;
    let c = client(&url);
    let ot = new_order(&c, 8001).await;
    let (status, body) = raw(&url, &GetDocumentoOrdenTrabajo { ot_id: ot.ot_id }).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("<codigoError xsi:type=\"xsd:string\"> 0 </codigoError>"),
        "{body}"
    );
    let r = c
        .call(&GetDocumentoOrdenTrabajo { ot_id: ot.ot_id })
        .await
        .unwrap();
    assert_eq!(r.codigo_error, ErrorCode::Ok);
    assert!(r.documento.is_some());

    let (_, body) = raw(&url, &GetDocumentoOrdenTrabajo { ot_id: 4 }).await;
    assert!(
        body.contains("<codigoError xsi:type=\"xsd:string\">OT-NO-EXISTE</codigoError>"),
        "{body}"
    );
    match c
        .call(&GetDocumentoOrdenTrabajo { ot_id: 4 })
        .await
        .unwrap_err()
    {
        Error::Rejected { code, .. } => assert_eq!(code, ErrorCode::Text("OT-NO-EXISTE".into())),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_ot_reads_only_the_misspelled_fields() {
    let (sim, url) = start().await;
    let c = client(&url);
    let first = new_order(&c, 8001).await;
    c.call(&ResolveOt {
        ot_id: first.ot_id,
        numero_serie: n("M-NUEVO-1"),
        comentarios: n("Cambio de medidor"),
        codigo_resolucion: n("OK"),
    })
    .await
    .unwrap();
    // Correctly spelled, by hand: AquaCIS resolves the order without them.
    let second = new_order(&c, 8001).await;
    let op = ResolveOt {
        ot_id: second.ot_id,
        numero_serie: n("M-NUEVO-2"),
        comentarios: n("Se perderá"),
        codigo_resolucion: n("OK"),
    };
    let body = wire::request(&op, Some(&creds()), Utc::now())
        .unwrap()
        .replace("busVHFumberSerie>", "numeroSerie>")
        .replace("vistitComments>", "comentarios>");
    assert!(body.contains("<numeroSerie>M-NUEVO-2</numeroSerie>"));
    let (status, text) = post_raw(&url, Service::WorkOrders, body).await;
    assert_eq!(status, 200, "{text}");
    let r = wire::read_response::<ResolveOt>(&text).unwrap();
    assert_eq!(
        (r.codigo_error, r.orden.unwrap().estado),
        (ErrorCode::Ok, n("RESUELTA"))
    );

    let orders = sim.ordenes();
    let get = |id: i64| orders.iter().find(|o| o.orden.ot_id == id).unwrap().clone();
    let a = get(first.ot_id);
    assert_eq!(a.numero_serie.as_deref(), Some("M-NUEVO-1"));
    assert_eq!(a.comentarios.as_deref(), Some("Cambio de medidor"));
    let b = get(second.ot_id);
    assert_eq!(b.orden.estado, "RESUELTA");
    assert_eq!(
        (b.numero_serie.as_deref(), b.comentarios.as_deref()),
        (Some(""), Some(""))
    );
    // The same through the JSON admin.
    let list: serde_json::Value = reqwest::get(format!("{url}/sim/ordenes"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["numeroSerie"], "M-NUEVO-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cambiar_email_needs_email_antigo() {
    let (_sim, url) = start().await;
    let op = CambiarEmailNotificacionPersona {
        nif: n(MARIA),
        email_antiguo: n("maria@ejemplo.mx"),
        email_nuevo: n("nuevo@ejemplo.mx"),
    };
    let body = wire::request(&op, Some(&creds()), Utc::now())
        .unwrap()
        .replace("emailAntigo>", "emailAntiguo>");
    let (status, text) = post_raw(&url, Service::Contracts, body).await;
    assert_eq!(status, 200, "{text}");
    let r = wire::read_response::<CambiarEmailNotificacionPersona>(&text).unwrap();
    assert_eq!(r.codigo_error, ErrorCode::Code(3));
    assert_eq!(
        r.descripcion_error.as_deref(),
        Some("El email anterior no coincide")
    );
    // The client's spelling works; a wrong old address is code 3 too.
    let c = client(&url);
    rejected_with(
        c.call(&CambiarEmailNotificacionPersona {
            email_antiguo: n("otro@ejemplo.mx"),
            ..op.clone()
        })
        .await
        .unwrap_err(),
        3,
    );
    c.call(&op).await.unwrap();
    let p = c
        .call(&GetTitularPorNif { nif: n(MARIA) })
        .await
        .unwrap()
        .persona
        .unwrap();
    assert_eq!(p.email.as_deref(), Some("nuevo@ejemplo.mx"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_data_answers_only_class_one() {
    let (_sim, url) = start().await;
    let c = client(&url);
    let ot = new_order(&c, 8003).await;
    let r = c
        .call(&RefreshData::new(ot.ot_id, aquacis::SITE))
        .await
        .unwrap();
    assert_eq!(r.orden.unwrap().ot_id, ot.ot_id);
    let r = c
        .call(&RefreshData::with_class(ot.ot_id, 0, aquacis::SITE))
        .await
        .unwrap();
    assert_eq!(r.codigo_error, ErrorCode::Ok);
    assert_eq!(r.orden, None, "silently empty");
    rejected_with(
        c.call(&RefreshData::new(424242, aquacis::SITE))
            .await
            .unwrap_err(),
        6,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_orders_need_a_service_point() {
    let (sim, url) = start().await;
    let c = client(&url);
    let o = c
        .create_work_order("M-0001", "REVISION_FUGA", "Fuga en banqueta", "OT-SUPRA-3")
        .await
        .unwrap();
    assert_eq!(o.id_pto_servicio, 8001);
    assert_eq!(sim.calls("crearOrdenTrabajo"), 1);
    assert_eq!(sim.ordenes()[0].referencia_externa, "OT-SUPRA-3");

    // Juan's meter has no service point: refused before AquaCIS is asked.
    match c
        .create_work_order("M-0002", "REVISION_FUGA", "x", "OT-SUPRA-4")
        .await
    {
        Err(Error::Invalid(m)) => assert!(m.contains("M-0002"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.calls("crearOrdenTrabajo"), 1);
    assert_eq!(sim.calls("getPuntoServicioPorContador"), 2);

    // Sent anyway: AquaCIS's NullPointerException.
    let e = c
        .call(&CrearOrdenTrabajo {
            id_pto_servicio: None,
            tipo: n("REVISION_FUGA"),
            descripcion: n("x"),
            referencia_externa: n("OT-SUPRA-5"),
        })
        .await
        .unwrap_err();
    match e {
        Error::Fault { message, .. } => assert_eq!(message, "java.lang.NullPointerException"),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.ordenes().len(), 1);
}

#[tokio::test]
async fn every_call_needs_ws_security() {
    let (sim, url) = start().await;
    let body = wire::request(
        &GetDeuda {
            num_contrato: n("100001"),
        },
        None,
        Utc::now(),
    )
    .unwrap();
    let (status, text) = post_raw(&url, Service::Debt, body).await;
    assert_eq!(status, 500);
    match wire::read_response::<GetDeuda>(&text).unwrap_err() {
        Error::Fault { code, message } => {
            assert_eq!(code, "wsse:InvalidSecurity");
            assert_eq!(
                message,
                "WSDoAllReceiver: Request does not contain required Security header"
            );
        }
        other => panic!("{other:?}"),
    }
    // Wrong password, through the client: a fault (not retried: it is an answer).
    let mut cfg = config(&url);
    cfg.credentials.password = "otra".into();
    let c = Client::new(cfg).unwrap();
    match c
        .call(&GetContrato {
            num_contrato: n("100001"),
        })
        .await
        .unwrap_err()
    {
        Error::Fault { code, message } => {
            assert_eq!(code, "wsse:InvalidSecurity");
            assert!(message.contains("could not be authenticated"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.calls("getContrato"), 1);
    // An operation posted to another service's path.
    let body = wire::request(
        &GetDeuda {
            num_contrato: n("100001"),
        },
        Some(&creds()),
        Utc::now(),
    )
    .unwrap();
    let (status, text) = post_raw(&url, Service::Contracts, body).await;
    assert_eq!(status, 500);
    assert!(
        matches!(
            wire::read_response::<GetDeuda>(&text),
            Err(Error::Fault { .. })
        ),
        "{text}"
    );
}

// ---------------------------------------------------------------- faults

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_survive_one_failure_by_retrying() {
    let (sim, url) = start().await;
    let c = client(&url);
    for tipo in [TipoFalla::Error5xx, TipoFalla::Reset, TipoFalla::XmlRoto] {
        let before = sim.calls("getDeuda");
        sim.inject(Fault::on("getDeuda", tipo));
        let d = c
            .call(&GetDeuda {
                num_contrato: n("100001"),
            })
            .await;
        assert_eq!(
            d.unwrap().resultado.unwrap().deuda_total,
            dec("800.25"),
            "{tipo:?}"
        );
        assert_eq!(
            sim.calls("getDeuda"),
            before + 2,
            "{tipo:?}: one failure, one retry"
        );
    }
    // A rule for another service does not apply.
    sim.inject(Fault {
        servicio: Some(Service::Meters.ws_name().into()),
        ..Fault::any(TipoFalla::Error5xx)
    });
    let before = sim.calls("getDeuda");
    c.call(&GetDeuda {
        num_contrato: n("100001"),
    })
    .await
    .unwrap();
    assert_eq!(sim.calls("getDeuda"), before + 1);
    // Latency is only latency.
    sim.clear_faults();
    sim.inject(Fault::on("getContrato", TipoFalla::Latencia).ms(150));
    let t = Instant::now();
    c.call(&GetContrato {
        num_contrato: n("100001"),
    })
    .await
    .unwrap();
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_is_sent_once() {
    let (sim, url) = start().await;
    let c = client(&url);
    let aviso = AvisarPago {
        num_contrato: n("100001"),
        importe: dec("50.00"),
        fecha_pago: day(2026, 11, 21),
        forma_pago: n("03"),
        referencia_externa: n("SUPRA-501"),
    };
    sim.inject(Fault::on("avisarPago", TipoFalla::Error5xx));
    let e = c.call(&aviso).await.unwrap_err();
    assert!(matches!(e, Error::Unavailable { .. }), "{e:?}");
    assert_eq!(sim.calls("avisarPago"), 1, "never retried");
    assert!(sim.avisos().is_empty(), "nothing recorded");

    // The lost reply: AquaCIS recorded it, the client cannot know.
    sim.inject(Fault::on("avisarPago", TipoFalla::ResetDespues));
    let e = c.call(&aviso).await.unwrap_err();
    assert!(e.is_transient(), "{e:?}");
    assert_eq!(sim.calls("avisarPago"), 2);
    let avisos = sim.avisos();
    assert_eq!(avisos.len(), 1);
    assert_eq!(avisos[0].referencia_externa, "SUPRA-501");
    // … and the history shows it, which is how a retry finds it.
    let h = c
        .call(&ConsultaHistoricoActuacionesContrato {
            num_contrato: n("100001"),
        })
        .await
        .unwrap();
    assert!(
        h.actuaciones
            .iter()
            .any(|a| a.referencia.as_deref() == Some("SUPRA-501"))
    );

    // A cut before processing loses nothing but the call.
    sim.inject(Fault::on("avisarPago", TipoFalla::Reset));
    assert!(c.call(&aviso).await.unwrap_err().is_transient());
    assert_eq!(sim.avisos().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_call_times_out() {
    let (sim, url) = start().await;
    let mut cfg = config(&url);
    cfg.timeout = Duration::from_millis(300);
    cfg.read_retries = 0;
    let c = Client::new(cfg).unwrap();
    sim.inject(Fault::on("getLecturas", TipoFalla::Timeout));
    let t = Instant::now();
    let e = c
        .call(&GetLecturas {
            num_contrato: n("100001"),
        })
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unavailable { .. }), "{e:?}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    // The next call is answered.
    c.call(&GetLecturas {
        num_contrato: n("100001"),
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opens_and_closes_again() {
    let (sim, url) = start().await;
    let mut cfg = config(&url);
    cfg.read_retries = 0;
    let c = Client::new(cfg).unwrap();
    let op = GetDeuda {
        num_contrato: n("100001"),
    };
    sim.set_down(true);
    for _ in 0..3 {
        let e = c.call(&op).await.unwrap_err();
        assert!(matches!(e, Error::Unavailable { .. }), "{e:?}");
    }
    assert_eq!(c.breaker(Service::Debt).state(), BreakerState::Open);
    assert_eq!(sim.calls("getDeuda"), 3);
    let e = c.call(&op).await.unwrap_err();
    assert!(matches!(e, Error::CircuitOpen { .. }), "{e:?}");
    assert_eq!(sim.calls("getDeuda"), 3, "not even tried");
    // Other services have their own breaker.
    assert_eq!(c.breaker(Service::Contracts).state(), BreakerState::Closed);

    sim.set_down(false);
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(c.breaker(Service::Debt).state(), BreakerState::HalfOpen);
    c.call(&op).await.unwrap();
    assert_eq!(sim.calls("getDeuda"), 4);
    assert_eq!(c.breaker(Service::Debt).state(), BreakerState::Closed);
    let h = c.health();
    assert_eq!(h[Service::Debt.index()].failures, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_over_http() {
    let (sim, url) = start().await;
    let http = reqwest::Client::new();
    let mut cfg = config(&url);
    cfg.breaker_threshold = 10;
    let c = Client::new(cfg).unwrap();
    let r = http
        .post(format!("{url}/sim/fallas"))
        .json(&serde_json::json!({"operacion": "getContrato", "tipo": "5xx", "veces": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let e = c
        .call(&GetContrato {
            num_contrato: n("100001"),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Unavailable { .. }),
        "three 503s exhaust the retries: {e:?}"
    );
    http.post(format!("{url}/sim/fallas"))
        .json(&serde_json::json!({"tipo": "xml"}))
        .send()
        .await
        .unwrap();
    let r = http
        .delete(format!("{url}/sim/fallas"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    c.call(&GetContrato {
        num_contrato: n("100001"),
    })
    .await
    .unwrap();

    http.post(format!("{url}/sim/caida"))
        .json(&serde_json::json!({"activa": true}))
        .send()
        .await
        .unwrap();
    let (status, _) = raw(
        &url,
        &GetContrato {
            num_contrato: n("100001"),
        },
    )
    .await;
    assert_eq!(status, 503);
    http.post(format!("{url}/sim/caida"))
        .json(&serde_json::json!({"activa": false}))
        .send()
        .await
        .unwrap();

    // Contracts through the admin are listed as modified after the watermark.
    let watermark = c
        .call(&ConsultaContratosModificados {
            fecha_desde: n("2000-01-01T00:00:00Z"),
            pagina: 1,
        })
        .await
        .unwrap()
        .fecha_consulta;
    let mut nuevo = contrato("200001", "ROSA700101AAA", "ROSA DÍAZ MORA", "M-2001");
    nuevo.deuda = Some(dec("99.90"));
    let r = http
        .post(format!("{url}/sim/contratos"))
        .json(&serde_json::json!([
            nuevo,
            contrato("100002", JUAN, "JUAN PÉREZ LÓPEZ", "M-0002")
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .call(&ConsultaContratosModificados {
            fecha_desde: watermark.clone(),
            pagina: 1,
        })
        .await
        .unwrap();
    assert_eq!(r.contratos, ["100002", "200001"]);
    let d = c
        .call(&GetDeuda {
            num_contrato: n("200001"),
        })
        .await
        .unwrap()
        .resultado
        .unwrap();
    assert_eq!(d.deuda_total, dec("99.90"));

    c.call(&AvisarPago {
        num_contrato: n("200001"),
        importe: dec("99.90"),
        fecha_pago: day(2026, 11, 21),
        forma_pago: n("04"),
        referencia_externa: n("SUPRA-1"),
    })
    .await
    .unwrap();
    let avisos: serde_json::Value = http
        .get(format!("{url}/sim/avisos"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(avisos[0]["referenciaExterna"], "SUPRA-1");
    assert_eq!(avisos[0]["importe"], "99.90");
    assert_eq!(sim.avisos().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modified_contracts_come_in_pages_of_500() {
    let sim = AquacisSim::new(USER, PASS);
    let contratos: Vec<Contrato> = (0..1_203)
        .map(|i| {
            contrato(
                &format!("{:06}", 300_000 + i),
                "XAXX010101000",
                "PÚBLICO EN GENERAL",
                &format!("S-{i}"),
            )
        })
        .collect();
    sim.load(SimData {
        contratos,
        ..SimData::default()
    });
    let url = aquacis::spawn(sim.clone()).await.unwrap();
    let c = client(&url);
    let since = n("2000-01-01T00:00:00Z");
    let mut all = vec![];
    for pagina in 1.. {
        let r = c
            .call(&ConsultaContratosModificados {
                fecha_desde: since.clone(),
                pagina,
            })
            .await
            .unwrap();
        assert!(r.contratos.len() <= aquacis::PAGE);
        all.extend(r.contratos);
        if !r.hay_mas {
            assert_eq!(pagina, 3);
            break;
        }
    }
    assert_eq!(all.len(), 1_203);
    let watermark = c
        .call(&ConsultaContratosModificados {
            fecha_desde: since,
            pagina: 1,
        })
        .await
        .unwrap()
        .fecha_consulta;
    // Strictly after the watermark: nothing yet, then just the upserted one.
    let r = c
        .call(&ConsultaContratosModificados {
            fecha_desde: watermark.clone(),
            pagina: 1,
        })
        .await
        .unwrap();
    assert!(r.contratos.is_empty() && !r.hay_mas);
    sim.upsert_contract(contrato(
        "300007",
        "XAXX010101000",
        "PÚBLICO EN GENERAL",
        "S-7",
    ));
    let r = c
        .call(&ConsultaContratosModificados {
            fecha_desde: watermark,
            pagina: 1,
        })
        .await
        .unwrap();
    assert_eq!(r.contratos, ["300007"]);
    let e = c
        .call(&ConsultaContratosModificados {
            fecha_desde: n("ayer"),
            pagina: 1,
        })
        .await
        .unwrap_err();
    rejected_with(e, 4);
}

// ---------------------------------------------------------------- seeded from SUPRA

async fn seeded_from_the_demo_database(backend: Backend, name: &str) {
    let Some(app) = common::spawn(backend, name).await else {
        return;
    };
    let sim = AquacisSim::new(USER, PASS);
    let loaded = sim
        .seed_from_db(&app.db, app.tenant)
        .await
        .expect("seed_from_db");
    assert_eq!(loaded, common::DEMO_CONTRACTS);
    let url = aquacis::spawn(sim.clone()).await.unwrap();
    let c = client(&url);

    let mut owing = 0;
    for number in common::demo_contracts().into_iter().take(25) {
        let (balance, full_name, meter) = {
            let mut tx = app.db.read(app.tenant).await.unwrap();
            let contact = db::repo::contract_contact(&mut tx, &number)
                .await
                .unwrap()
                .unwrap();
            let account = db::repo::account_by_id(&mut tx, contact.contract_id)
                .await
                .unwrap()
                .unwrap();
            let meters = db::repo::meters_of_contract(&mut tx, contact.contract_id)
                .await
                .unwrap();
            (
                account.balance_centavos,
                account.full_name,
                meters.first().map(|m| m.serial.clone()),
            )
        };
        let d = c
            .call(&GetDeuda {
                num_contrato: number.clone(),
            })
            .await
            .unwrap();
        assert_eq!(
            d.resultado.unwrap().deuda_total,
            Decimal::new(balance, 2),
            "{number}"
        );
        let k = c
            .call(&ConsultaDetalleContrato {
                num_contrato: number.clone(),
            })
            .await
            .unwrap()
            .contrato
            .unwrap();
        assert_eq!(k.titular, full_name, "{number}");
        assert_eq!(k.deuda, Some(Decimal::new(balance, 2)));
        assert_eq!(k.numero_serie_contador, meter, "{number}");
        let f = c
            .call(&GetFacturasContrato {
                num_contrato: number.clone(),
            })
            .await
            .unwrap();
        assert!(
            !f.facturas.is_empty(),
            "{number}: the demo bills six periods"
        );
        let pending: Decimal = f.facturas.iter().map(|f| f.pendiente).sum();
        assert!(pending <= Decimal::new(balance.max(0), 2), "{number}");
        if balance > 0 {
            owing += 1;
            assert!(pending > Decimal::ZERO, "{number}");
        }
        let l = c
            .call(&GetLecturas {
                num_contrato: number.clone(),
            })
            .await
            .unwrap();
        assert!(!l.lecturas.is_empty() && l.lecturas.len() <= 24, "{number}");
        if let Some(serial) = meter {
            let p = c
                .call(&GetPuntoServicioPorContador {
                    numero_serie: serial,
                })
                .await
                .unwrap();
            assert!(p.id_pto_servicio.is_some(), "{number}");
        }
        let t = c
            .call(&GetTitularPorNif { nif: k.nif.clone() })
            .await
            .unwrap();
        assert!(t.persona.is_some(), "{number}");
    }
    assert!(owing > 0, "some demo contract owes");
    app.shutdown().await;
}

both!(
    sqlite_seeded_from_the_demo_database,
    postgres_seeded_from_the_demo_database,
    seeded_from_the_demo_database
);
