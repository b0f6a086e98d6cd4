//! The ChirpStack MQTT consumer against a real Mosquitto (our own process, on a free
//! port, with persistence in a temp dir): every message the broker acknowledged to the
//! publisher is handled at least once — across a broker restart (SIGTERM, so it saves
//! its sessions), with messages published while the consumer is disconnected, and with
//! a handler that fails once (the message is retried, not lost).
//!
//! The consumer reaches the broker through a small TCP proxy the test can shut, so
//! "published while the consumer has not reconnected yet" is certain, not a race.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, QoS};
use server::mqtt::{self, Handler, MqttConfig};

mod common;
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

/// The payload whose first handling fails (as if the database were down).
const FAILS_ONCE: &str = "m-03";

fn mosquitto() -> Option<PathBuf> {
    let fixed = PathBuf::from("/usr/sbin/mosquitto");
    if fixed.is_file() {
        return Some(fixed);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("mosquitto"))
        .find(|p| p.is_file())
}

/// Mosquitto, or `None` (printing SKIPPED) when it is not installed — unless the run
/// requires every tool (CI), where its absence fails the test.
fn mosquitto_or_skip() -> Option<PathBuf> {
    let found = mosquitto();
    if found.is_none() {
        assert!(
            std::env::var_os("SUPRA_REQUIRE_TOOLS").is_none(),
            "mosquitto is not installed and SUPRA_REQUIRE_TOOLS is set"
        );
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED: mosquitto not installed");
    }
    found
}

/// A broker of our own on a free port, persisting to `dir`.
async fn own_broker(bin: &Path, dir: &Path) -> Broker {
    let port = free_port();
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "persistence true\n\
             persistence_location {dir}/\n\
             listener {port} 127.0.0.1\n\
             allow_anonymous true\n\
             log_dest file {dir}/mosquitto.log\n\
             log_type error\nlog_type warning\nlog_type notice\nlog_type information\nlog_type subscribe\n\
             user root\n",
            dir = dir.display()
        ),
    )
    .unwrap();
    Broker::start(bin, &conf, port, dir).await
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn up_topic(i: usize) -> String {
    format!("application/7/device/{i:016x}/event/up")
}

struct Broker {
    child: Child,
    port: u16,
}

impl Broker {
    async fn start(bin: &Path, conf: &Path, port: u16, dir: &Path) -> Broker {
        let mut child = Command::new(bin)
            .arg("-c")
            .arg(conf)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start mosquitto");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("mosquitto exited ({status}):\n{}", log(dir));
            }
            assert!(
                Instant::now() < deadline,
                "mosquitto did not listen:\n{}",
                log(dir)
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Broker { child, port }
    }

    /// SIGTERM (Mosquitto saves its persistence file on the way out) and wait.
    async fn terminate(mut self) {
        let pid = self.child.id().expect("broker running");
        let ok = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -TERM {pid}");
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("mosquitto did not exit on SIGTERM")
            .unwrap();
        assert!(status.success(), "mosquitto exited with {status}");
    }
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("mosquitto.log")).unwrap_or_default()
}

/// A TCP proxy in front of the broker; while shut it drops new connections at once.
async fn proxy(broker_port: u16) -> (u16, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let open = Arc::new(AtomicBool::new(true));
    let gate = open.clone();
    tokio::spawn(async move {
        while let Ok((mut down, _)) = listener.accept().await {
            if !gate.load(Ordering::SeqCst) {
                continue;
            }
            tokio::spawn(async move {
                if let Ok(mut up) = TcpStream::connect(("127.0.0.1", broker_port)).await {
                    let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                }
            });
        }
    });
    (port, open)
}

/// A QoS 1 publisher that waits for the broker's PUBACK of each message.
struct Publisher {
    client: AsyncClient,
    events: EventLoop,
}

impl Publisher {
    async fn connect(port: u16, id: &str) -> Publisher {
        let mut opts = MqttOptions::new(id, "127.0.0.1", port);
        opts.set_keep_alive(Duration::from_secs(5));
        let (client, mut events) = AsyncClient::new(opts, 10);
        loop {
            match next(&mut events).await {
                Event::Incoming(Packet::ConnAck(_)) => break,
                _ => continue,
            }
        }
        Publisher { client, events }
    }

    async fn publish(&mut self, topic: &str, payload: &str) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.as_bytes().to_vec())
            .await
            .unwrap();
        loop {
            if let Event::Incoming(Packet::PubAck(_)) = next(&mut self.events).await {
                return;
            }
        }
    }

    async fn close(mut self) {
        self.client.disconnect().await.unwrap();
        while !matches!(
            next(&mut self.events).await,
            Event::Outgoing(Outgoing::Disconnect)
        ) {}
    }
}

async fn next(events: &mut EventLoop) -> Event {
    tokio::time::timeout(Duration::from_secs(10), events.poll())
        .await
        .expect("publisher: no event in 10 s")
        .expect("publisher: connection error")
}

/// (topic, payload) of each message handled.
type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// Records what it handled; fails the first attempt at `FAILS_ONCE`.
#[derive(Clone, Default)]
struct Recorder {
    seen: Seen,
    failed: Arc<AtomicBool>,
}

impl Handler for Recorder {
    async fn handle(&self, messages: &[mqtt::Message]) -> anyhow::Result<()> {
        // A little work, so that messages are still unacknowledged when the broker goes.
        tokio::time::sleep(Duration::from_millis(10)).await;
        if messages.iter().any(|m| m.payload == FAILS_ONCE.as_bytes())
            && !self.failed.swap(true, Ordering::SeqCst)
        {
            anyhow::bail!("database down (simulated)");
        }
        let mut seen = self.seen.lock().unwrap();
        for m in messages {
            seen.push((m.topic.clone(), m.payload.clone()));
        }
        Ok(())
    }
}

impl Recorder {
    fn count(&self, payload: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, p)| p == payload.as_bytes())
            .count()
    }

    fn any_starting(&self, prefix: &str) -> bool {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .any(|(_, p)| p.starts_with(prefix.as_bytes()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_uplink_is_handled_across_a_broker_restart() {
    // `RUST_LOG=server::mqtt=debug` shows the consumer's side.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let Some(bin) = mosquitto_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let broker = own_broker(&bin, dir.path()).await;
    let port = broker.port;
    let conf = dir.path().join("mosquitto.conf");
    let (proxy_port, gate) = proxy(port).await;

    let recorder = Recorder::default();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let consumer = tokio::spawn(mqtt::run(
        MqttConfig {
            host: "127.0.0.1".into(),
            port: proxy_port,
            client_id: format!("supra-test-{}", std::process::id()),
            keep_alive_secs: 5,
            ..MqttConfig::default()
        },
        recorder.clone(),
        stop_rx,
    ));

    // Subscribed once a probe comes through (messages before that are not queued).
    let mut publisher = Publisher::connect(broker.port, "publisher-1").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    for i in 0.. {
        publisher
            .publish(&up_topic(999), &format!("probe-{i}"))
            .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        if recorder.any_starting("probe-") {
            break;
        }
        assert!(Instant::now() < deadline, "the consumer never subscribed");
    }

    // 1. While connected; plus an event the filter does not match.
    let payload = |i: usize| format!("m-{i:02}");
    for i in 0..10 {
        publisher.publish(&up_topic(i), &payload(i)).await;
    }
    publisher
        .publish(
            "application/7/device/0000000000000001/event/status",
            "status",
        )
        .await;
    publisher.close().await;

    // 2. The broker goes down (with messages still being handled) and comes back; the
    // consumer cannot reconnect yet, so these wait in its persisted session.
    gate.store(false, Ordering::SeqCst);
    broker.terminate().await;
    assert!(
        dir.path().join("mosquitto.db").is_file(),
        "no persistence file"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let broker = Broker::start(&bin, &conf, port, dir.path()).await;
    let mut publisher = Publisher::connect(broker.port, "publisher-2").await;
    for i in 10..20 {
        publisher.publish(&up_topic(i), &payload(i)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 10..20 {
        assert_eq!(
            recorder.count(&payload(i)),
            0,
            "{} handled while disconnected?",
            payload(i)
        );
    }

    // 3. The consumer may reconnect now; publish at once, racing its reconnection.
    gate.store(true, Ordering::SeqCst);
    for i in 20..30 {
        publisher.publish(&up_topic(i), &payload(i)).await;
    }
    publisher.close().await;

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let missing: Vec<String> = (0..30)
            .map(payload)
            .filter(|p| recorder.count(p) == 0)
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not handled within 30 s: {missing:?}\nbroker log:\n{}",
            log(dir.path())
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Handled above, after its first attempt had failed.
    assert!(
        recorder.failed.load(Ordering::SeqCst),
        "{FAILS_ONCE} never failed"
    );
    assert_eq!(recorder.count("status"), 0, "only `up` events are consumed");
    for (topic, p) in recorder.seen.lock().unwrap().iter() {
        let p = String::from_utf8_lossy(p);
        if let Some(i) = p.strip_prefix("m-") {
            assert_eq!(*topic, up_topic(i.parse().unwrap()), "topic of {p}");
        }
    }
    let duplicates = (0..30)
        .map(|i| recorder.count(&payload(i)) - 1)
        .sum::<usize>();
    println!("30 messages handled, {duplicates} redelivered duplicate(s)");

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), consumer)
        .await
        .expect("the consumer did not stop within 10 s")
        .unwrap()
        .unwrap();
    broker.terminate().await;
}

/// The server as configured for production: `[mqtt]` set, the consumer runs with the
/// server, and what ChirpStack publishes becomes readings (or quarantine) — once,
/// even when ChirpStack publishes the same event twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_stores_what_chirpstack_publishes() {
    let Some(bin) = mosquitto_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let broker = own_broker(&bin, dir.path()).await;
    let port = broker.port;
    let Some(app) = common::spawn_configured(
        common::Backend::Sqlite,
        "the_server_stores_what_chirpstack_publishes",
        |c| {
            c.mqtt = Some(MqttConfig {
                port,
                client_id: format!("supra-server-test-{}", std::process::id()),
                keep_alive_secs: 5,
                ..MqttConfig::default()
            })
        },
    )
    .await
    else {
        return;
    };
    let (meter, last) = {
        let mut tx = app.db.read(app.tenant).await.unwrap();
        let id = db::metering::smart_meters(&mut tx).await.unwrap()[0].0;
        let last = db::metering::readings_of(&mut tx, id, 1).await.unwrap();
        (id, last[0].clone())
    };
    let eui = server::demo_dev_eui(meter);
    let at = chrono::Utc::now() - chrono::Duration::minutes(2);
    let litres = last.value_litres as u64 + 250;
    let event = common::chirpstack_up("mqtt-dd-1", &eui, litres, at);
    let topic = format!("application/app-1/device/{eui}/event/up");
    let unknown = "00000000000000ab";
    let stranger = common::chirpstack_up("mqtt-dd-2", unknown, 7, at);

    // The consumer subscribes after connecting; until then the broker keeps nothing for
    // it (first connection), so publish once the subscription shows in the broker log.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !log(dir.path()).contains("application/+/device/+/event/up") {
        assert!(
            Instant::now() < deadline,
            "no subscription:\n{}",
            log(dir.path())
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut publisher = Publisher::connect(port, "chirpstack").await;
    publisher.publish(&topic, &event).await;
    publisher.publish(&topic, &event).await;
    publisher
        .publish(
            &format!("application/app-1/device/{unknown}/event/up"),
            &stranger,
        )
        .await;
    publisher.close().await;

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut tx = app.db.read(app.tenant).await.unwrap();
        let readings = db::metering::readings_of(&mut tx, meter, 5).await.unwrap();
        let quarantined = db::metering::open_quarantine(&mut tx, 10).await.unwrap();
        drop(tx);
        let stored: Vec<_> = readings
            .iter()
            .filter(|r| r.read_at.timestamp() == at.timestamp())
            .collect();
        if stored.len() == 1 && quarantined.iter().any(|q| q.device == unknown) {
            assert_eq!(stored[0].value_litres, litres as i64);
            assert_eq!(stored[0].source, "telemetria");
            break;
        }
        assert!(stored.len() <= 1, "stored twice: {readings:?}");
        assert!(
            Instant::now() < deadline,
            "not stored in 20 s: {readings:?} {quarantined:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.shutdown().await;
    broker.terminate().await;
}
