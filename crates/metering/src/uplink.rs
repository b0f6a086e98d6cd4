//! ChirpStack `up` events → readings. One write transaction per batch of events:
//! known devices' frames are recorded, the rest quarantined (unknown device,
//! undecodable frame, malformed event), each once.

use chrono::{DateTime, Utc};
use db::{Db, TenantId};
use ingest::{chirpstack, payload};
use sha2::{Digest, Sha256};

use crate::Result;
use crate::record::{self, Incoming, Outcome, Source};

/// What became of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    Recorded(Outcome),
    /// Kept for staff with this reason (Spanish).
    Quarantined(String),
}

struct Parsed {
    up: chirpstack::Uplink,
    frame: payload::MeterFrame,
}

/// Ingest `events` (raw `up` JSON bodies) received through `channel` (`mqtt`/`http`).
pub async fn ingest(
    db: &Db,
    tenant: TenantId,
    channel: &str,
    events: &[&[u8]],
    now: DateTime<Utc>,
) -> Result<Vec<Fate>> {
    let mut tx = db.write(tenant).await?;
    let mut fates: Vec<Option<Fate>> = vec![None; events.len()];
    let mut parsed: Vec<(usize, Parsed)> = Vec::new();
    for (i, body) in events.iter().enumerate() {
        let up = match chirpstack::parse_up(body) {
            Ok(up) => up,
            Err(e) => {
                let key = hex::encode(Sha256::digest(body));
                let text = String::from_utf8_lossy(body);
                quarantine(&mut tx, channel, &key, "?", &e.to_string(), &text, now).await?;
                fates[i] = Some(Fate::Quarantined(e.to_string()));
                continue;
            }
        };
        match payload::decode(up.f_port, &up.data, up.object.as_ref()) {
            Ok(frame) => parsed.push((i, Parsed { up, frame })),
            Err(e) => {
                let text = String::from_utf8_lossy(body);
                quarantine(
                    &mut tx,
                    channel,
                    &up.deduplication_id,
                    &up.dev_eui,
                    &e.to_string(),
                    &text,
                    now,
                )
                .await?;
                fates[i] = Some(Fate::Quarantined(e.to_string()));
            }
        }
    }
    let mut euis: Vec<String> = parsed.iter().map(|(_, p)| p.up.dev_eui.clone()).collect();
    euis.sort();
    euis.dedup();
    let devices: std::collections::HashMap<String, i64> =
        db::metering::devices_by_eui(&mut tx, &euis)
            .await?
            .into_iter()
            .collect();
    let mut incoming = Vec::new();
    let mut idx = Vec::new();
    let mut seen = Vec::new();
    for (i, p) in &parsed {
        let Some(&meter_id) = devices.get(&p.up.dev_eui) else {
            let reason = "dispositivo no registrado";
            let text = String::from_utf8_lossy(events[*i]);
            quarantine(
                &mut tx,
                channel,
                &p.up.deduplication_id,
                &p.up.dev_eui,
                reason,
                &text,
                now,
            )
            .await?;
            fates[*i] = Some(Fate::Quarantined(reason.into()));
            continue;
        };
        incoming.push(Incoming {
            meter_id,
            at: p.frame.read_at.unwrap_or(p.up.time),
            litres: Some(p.frame.volume_litres),
            alarms: p.frame.alarms.bits(),
            observation: None,
        });
        idx.push(*i);
        seen.push((p.up.dev_eui.clone(), p.up.time, Some(i64::from(p.up.f_cnt))));
    }
    let outcomes = record::record(&mut tx, Source::Telemetria, &incoming, now).await?;
    for (i, o) in idx.into_iter().zip(outcomes) {
        // A known device's reading that cannot be stored (its clock in the future, a
        // register it cannot show) is kept for staff too, with the reason.
        if let Outcome::Rejected { message, .. } = &o {
            let Some((_, p)) = parsed.iter().find(|(j, _)| *j == i) else {
                continue;
            };
            let text = String::from_utf8_lossy(events[i]);
            quarantine(
                &mut tx,
                channel,
                &p.up.deduplication_id,
                &p.up.dev_eui,
                message,
                &text,
                now,
            )
            .await?;
        }
        fates[i] = Some(Fate::Recorded(o));
    }
    db::metering::touch_devices(&mut tx, &seen).await?;
    tx.commit().await?;
    Ok(fates
        .into_iter()
        .map(|f| f.unwrap_or(Fate::Recorded(Outcome::Duplicate)))
        .collect())
}

#[allow(clippy::too_many_arguments)]
async fn quarantine(
    tx: &mut db::Scoped,
    channel: &str,
    key: &str,
    device: &str,
    reason: &str,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    db::metering::quarantine(tx, channel, key, device, reason, payload, now).await?;
    Ok(())
}
