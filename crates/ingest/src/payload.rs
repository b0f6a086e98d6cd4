//! A water meter's uplink as what ingest stores: the register's cumulative volume in
//! integer litres, when the meter read it, and its alarm flags.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::Value;

use crate::{Error, Result};

/// Alarm flags a meter reports (one bit each when stored).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Alarms {
    pub leak: bool,
    pub burst: bool,
    pub reverse_flow: bool,
    pub tamper: bool,
    /// Empty pipe.
    pub dry: bool,
    pub low_battery: bool,
    /// Low or high ambient temperature, or a meter error.
    pub fault: bool,
}

impl Alarms {
    pub fn bits(&self) -> u8 {
        [
            self.leak,
            self.burst,
            self.reverse_flow,
            self.tamper,
            self.dry,
            self.low_battery,
            self.fault,
        ]
        .iter()
        .enumerate()
        .fold(0, |acc, (i, on)| if *on { acc | (1 << i) } else { acc })
    }

    pub fn from_bits(b: u8) -> Alarms {
        let on = |i: u8| b & (1 << i) != 0;
        Alarms {
            leak: on(0),
            burst: on(1),
            reverse_flow: on(2),
            tamper: on(3),
            dry: on(4),
            low_battery: on(5),
            fault: on(6),
        }
    }

    pub fn any(&self) -> bool {
        self.bits() != 0
    }
}

/// What a meter said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterFrame {
    pub volume_litres: u64,
    /// The meter's own clock, when the frame carries it (else the uplink's time).
    pub read_at: Option<DateTime<Utc>>,
    pub alarms: Alarms,
}

/// The Axioma Qalcosonic W1 enhanced frame (fPort 100, 51 bytes): version 0x01, u32 LE
/// unix time, status byte, u32 LE volume in litres, then hourly deltas (not used here).
pub fn qalcosonic_w1(bytes: &[u8]) -> Result<MeterFrame> {
    if bytes.len() < 10 {
        return Err(Error::invalid(
            "data",
            format!("trama de {} bytes; se esperaban al menos 10", bytes.len()),
        ));
    }
    if bytes[0] != 0x01 {
        return Err(Error::invalid(
            "data",
            format!("versión de trama 0x{:02x} desconocida", bytes[0]),
        ));
    }
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let time = DateTime::<Utc>::from_timestamp(i64::from(u32_at(1)), 0);
    let status = bytes[5];
    // The top three bits are one alarm code; the low ones independent flags.
    let code = status & 0xE0;
    let alarms = Alarms {
        leak: code == 0x20,
        reverse_flow: code == 0x60,
        burst: code == 0xA0,
        fault: code == 0x80 || status & 0x08 != 0 || (status & 0x10 != 0 && status != 0x10),
        dry: status == 0x10,
        low_battery: status & 0x04 != 0,
        tamper: false,
    };
    Ok(MeterFrame {
        volume_litres: u64::from(u32_at(6)),
        read_at: time,
        alarms,
    })
}

/// A codec's decoded `object`: the volume as integer litres (`volume_l`,
/// `volumeLitres`) or m³ (`latestVolume`, `volume_m3`, exact decimal), and boolean
/// alarms by name.
pub fn from_object(object: &Value) -> Result<MeterFrame> {
    let litres = ["volume_l", "volumeLitres", "volume_litres"]
        .iter()
        .find_map(|k| object.get(*k))
        .map(|v| exact_litres(v, Decimal::ONE))
        .or_else(|| {
            ["latestVolume", "volume_m3", "volumeM3"]
                .iter()
                .find_map(|k| object.get(*k))
                .map(|v| exact_litres(v, Decimal::from(1000)))
        })
        .ok_or_else(|| Error::invalid("object", "no trae el volumen del medidor"))??;
    let flag = |names: &[&str]| {
        names
            .iter()
            .any(|n| object.get(*n) == Some(&Value::Bool(true)))
    };
    Ok(MeterFrame {
        volume_litres: litres,
        read_at: None,
        alarms: Alarms {
            leak: flag(&["leak", "leakage"]),
            burst: flag(&["burst"]),
            reverse_flow: flag(&["reverseFlow", "reverse_flow", "backflow"]),
            tamper: flag(&["tamper"]),
            dry: flag(&["dry", "emptyPipe", "empty_pipe"]),
            low_battery: flag(&["lowBattery", "low_battery"]),
            fault: flag(&["error", "fault"]),
        },
    })
}

/// A JSON number (read from its text, never through a float) times `scale`, as whole
/// litres.
fn exact_litres(v: &Value, scale: Decimal) -> Result<u64> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return Err(Error::invalid("object", "el volumen no es un número")),
    };
    let d: Decimal = text
        .parse()
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| Error::invalid("object", format!("«{text}» no es un volumen")))?;
    let litres = d * scale;
    if litres.is_sign_negative() || litres.fract() != Decimal::ZERO {
        return Err(Error::invalid(
            "object",
            format!("{text} no es un número entero de litros"),
        ));
    }
    litres
        .to_u64()
        .ok_or_else(|| Error::invalid("object", "volumen fuera de rango"))
}

/// The frame of an uplink: the codec's object when present, else the raw frame.
pub fn decode(f_port: u8, data: &[u8], object: Option<&Value>) -> Result<MeterFrame> {
    match object {
        Some(o) => from_object(o),
        None if f_port == 100 => qalcosonic_w1(data),
        None => Err(Error::invalid(
            "fPort",
            format!("no hay decodificador para el puerto {f_port}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w1(time: u32, status: u8, litres: u32) -> Vec<u8> {
        let mut b = vec![0x01];
        b.extend(time.to_le_bytes());
        b.push(status);
        b.extend(litres.to_le_bytes());
        b.extend([0u8; 41]);
        b
    }

    #[test]
    fn the_qalcosonic_frame_gives_litres_time_and_alarms() {
        let f = qalcosonic_w1(&w1(1_795_500_000, 0x00, 123_456)).expect("frame");
        assert_eq!(f.volume_litres, 123_456);
        assert_eq!(f.read_at.map(|t| t.timestamp()), Some(1_795_500_000));
        assert!(!f.alarms.any());
        assert!(qalcosonic_w1(&w1(0, 0x20, 1)).expect("leak").alarms.leak);
        let reverse = qalcosonic_w1(&w1(0, 0x60, 1)).expect("reverse").alarms;
        assert!(reverse.reverse_flow && !reverse.leak);
        assert!(qalcosonic_w1(&w1(0, 0xA0, 1)).expect("burst").alarms.burst);
        assert!(qalcosonic_w1(&w1(0, 0x10, 1)).expect("dry").alarms.dry);
        let low = qalcosonic_w1(&w1(0, 0x24, 1))
            .expect("low battery + leak")
            .alarms;
        assert!(low.low_battery && low.leak);
        assert!(qalcosonic_w1(&[0x02; 51]).is_err());
        assert!(qalcosonic_w1(&[0x01; 5]).is_err());
    }

    #[test]
    fn a_codec_object_is_read_exactly() {
        let f =
            from_object(&serde_json::json!({"latestVolume": 1234.567, "leak": true})).expect("m3");
        assert_eq!(f.volume_litres, 1_234_567);
        assert!(f.alarms.leak);
        let f = from_object(&serde_json::json!({"volume_l": 42})).expect("litres");
        assert_eq!(f.volume_litres, 42);
        assert!(from_object(&serde_json::json!({"volume_m3": 1.2345})).is_err());
        assert!(from_object(&serde_json::json!({"temperature": 20})).is_err());
        assert!(from_object(&serde_json::json!({"volume_l": -1})).is_err());
    }

    #[test]
    fn alarm_bits_round_trip() {
        for b in 0..128u8 {
            assert_eq!(Alarms::from_bits(b).bits(), b);
        }
    }

    #[test]
    fn decode_prefers_the_codec() {
        let obj = serde_json::json!({"volume_l": 7});
        assert_eq!(
            decode(100, &[], Some(&obj)).expect("object").volume_litres,
            7
        );
        assert_eq!(
            decode(100, &w1(0, 0, 9), None)
                .expect("frame")
                .volume_litres,
            9
        );
        assert!(decode(5, &[1, 2, 3], None).is_err());
    }
}
