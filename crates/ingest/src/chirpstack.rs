//! ChirpStack v4 `up` events (the JSON encoding of `integration.UplinkEvent`): only the
//! fields ingest acts on; the rest of the event is kept by the caller as received.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::{Error, Result};

/// An uplink from a device.
#[derive(Debug, Clone, PartialEq)]
pub struct Uplink {
    /// ChirpStack's id for the uplink after gateway deduplication: the idempotency key.
    pub deduplication_id: String,
    pub time: DateTime<Utc>,
    /// 16 lowercase hex digits.
    pub dev_eui: String,
    pub device_name: String,
    pub application_id: String,
    pub f_cnt: u32,
    pub f_port: u8,
    /// The frame as sent by the device.
    pub data: Vec<u8>,
    /// Decoded by the device profile's codec, when it has one.
    pub object: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpEvent {
    deduplication_id: String,
    time: DateTime<Utc>,
    device_info: DeviceInfo,
    #[serde(default)]
    f_cnt: u32,
    #[serde(default)]
    f_port: u8,
    #[serde(default)]
    data: String,
    #[serde(default)]
    object: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceInfo {
    dev_eui: String,
    #[serde(default)]
    device_name: String,
    #[serde(default)]
    application_id: String,
}

/// Parse an `up` event's JSON body.
pub fn parse_up(body: &[u8]) -> Result<Uplink> {
    let e: UpEvent =
        serde_json::from_slice(body).map_err(|e| Error::invalid("evento", e.to_string()))?;
    let dev_eui = e.device_info.dev_eui.to_ascii_lowercase();
    if dev_eui.len() != 16 || !dev_eui.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::invalid(
            "devEui",
            format!(
                "«{}» no son 16 dígitos hexadecimales",
                e.device_info.dev_eui
            ),
        ));
    }
    if e.deduplication_id.trim().is_empty() {
        return Err(Error::invalid("deduplicationId", "falta"));
    }
    let data = base64::engine::general_purpose::STANDARD
        .decode(e.data.as_bytes())
        .map_err(|err| Error::invalid("data", format!("no es base64: {err}")))?;
    Ok(Uplink {
        deduplication_id: e.deduplication_id,
        time: e.time,
        dev_eui,
        device_name: e.device_info.device_name,
        application_id: e.device_info.application_id,
        f_cnt: e.f_cnt,
        f_port: e.f_port,
        data,
        object: e.object.filter(|o| !o.is_null()),
    })
}

/// The device an MQTT topic names: `application/<id>/device/<devEui>/event/<event>` →
/// (application id, devEui, event).
pub fn topic_parts(topic: &str) -> Option<(&str, &str, &str)> {
    let mut it = topic.split('/');
    match (
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    ) {
        ("application", app, "device", eui, "event", event) if it.next().is_none() => {
            Some((app, eui, event))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const UP: &str = r#"{
        "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
        "time": "2026-11-24T06:00:00.123Z",
        "deviceInfo": {"tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242", "tenantName": "CEA",
            "applicationId": "ca739e26-7b67-4f14-b69e-d568c22a5a75", "applicationName": "medidores",
            "deviceProfileId": "f6a4d1a0-0000-0000-0000-000000000000", "deviceProfileName": "Qalcosonic W1",
            "deviceName": "MED-0042", "devEui": "0101010101010101", "deviceClassEnabled": "CLASS_A", "tags": {}},
        "devAddr": "00189440", "adr": true, "dr": 1, "fCnt": 10, "fPort": 100, "confirmed": false,
        "data": "AQ==",
        "rxInfo": [{"gatewayId": "0016c001f153a14c", "uplinkId": 4217106255, "rssi": -36, "snr": 10.5,
            "crcStatus": "CRC_OK"}],
        "txInfo": {"frequency": 902300000, "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 9, "codeRate": "CR_4_5"}}}
    }"#;

    #[test]
    fn an_up_event_parses() {
        let u = parse_up(UP.as_bytes()).expect("parses");
        assert_eq!(u.dev_eui, "0101010101010101");
        assert_eq!(u.f_cnt, 10);
        assert_eq!(u.f_port, 100);
        assert_eq!(u.data, vec![1]);
        assert_eq!(u.device_name, "MED-0042");
        assert!(u.object.is_none());
        assert_eq!(u.time.timestamp_millis(), 1_795_500_000_123);
    }

    #[test]
    fn bad_events_say_what_is_wrong() {
        let bad_eui = UP.replace("0101010101010101", "0101");
        assert!(matches!(
            parse_up(bad_eui.as_bytes()),
            Err(Error::Invalid {
                field: "devEui",
                ..
            })
        ));
        let bad_data = UP.replace("\"AQ==\"", "\"%%%\"");
        assert!(matches!(
            parse_up(bad_data.as_bytes()),
            Err(Error::Invalid { field: "data", .. })
        ));
        assert!(matches!(
            parse_up(b"{}"),
            Err(Error::Invalid {
                field: "evento",
                ..
            })
        ));
    }

    #[test]
    fn topics_name_the_device() {
        assert_eq!(
            topic_parts("application/ca73/device/0101010101010101/event/up"),
            Some(("ca73", "0101010101010101", "up"))
        );
        assert_eq!(
            topic_parts("application/ca73/device/0101/command/down"),
            None
        );
        assert_eq!(
            topic_parts("application/ca73/device/0101/event/up/extra"),
            None
        );
    }
}
