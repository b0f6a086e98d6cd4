//! Shared test helpers: SAT's fixtures (read in place from `../shared/fixtures/sat`) and
//! the Debian tools that check documents the way SAT publishes (`xmllint`, `xsltproc`).
//!
//! When the fixtures or a tool are absent the calling test prints "SKIPPED: …" and
//! passes, unless SUPRA_REQUIRE_TOOLS=1 (CI), where absence is a failure.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use cfdi::csd::Csd;

fn require() -> bool {
    std::env::var("SUPRA_REQUIRE_TOOLS").as_deref() == Ok("1")
}

fn skip(what: &str) -> Option<PathBuf> {
    if require() {
        panic!("{what} and SUPRA_REQUIRE_TOOLS=1");
    }
    eprintln!("SKIPPED: {what}");
    None
}

/// `../shared/fixtures/sat` next to the repository, if present.
pub fn fixtures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/sat");
    match dir.canonicalize() {
        Ok(d) if d.join("schemas/cfdi40-bundle.xsd").exists() => Some(d),
        _ => skip(&format!("SAT fixtures not found at {}", dir.display())),
    }
}

/// The fixtures, and the tools `xmllint` and `xsltproc` installed.
pub fn fixtures_and_tools() -> Option<PathBuf> {
    let dir = fixtures()?;
    for tool in ["xmllint", "xsltproc"] {
        let ok = Command::new(tool)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            return skip(&format!(
                "{tool} not installed (apt-get install libxml2-utils xsltproc)"
            ));
        }
    }
    Some(dir)
}

pub fn cfd_dir(fx: &Path) -> PathBuf {
    fx.join("schemas/www.sat.gob.mx/sitio_internet/cfd")
}

/// SAT's cadena original of an XML file, by `xsltproc` with SAT's stylesheet.
pub fn xslt_cadena(fx: &Path, xml: &Path) -> String {
    let xslt = cfd_dir(fx).join("4/cadenaoriginal_4_0/cadenaoriginal_4_0.xslt");
    let out = Command::new("xsltproc")
        .arg("--nonet")
        .arg(&xslt)
        .arg(xml)
        .output()
        .expect("run xsltproc");
    assert!(out.status.success(), "xsltproc failed on {}", xml.display());
    String::from_utf8(out.stdout).expect("cadena is UTF-8")
}

/// Validate files against SAT's bundle XSD with one `xmllint` call; returns the output of
/// the failures (empty when every file validates).
pub fn xsd_failures(fx: &Path, files: &[PathBuf]) -> String {
    let out = Command::new("xmllint")
        .arg("--nonet")
        .arg("--noout")
        .arg("--schema")
        .arg(fx.join("schemas/cfdi40-bundle.xsd"))
        .args(files)
        .output()
        .expect("run xmllint");
    if out.status.success() {
        String::new()
    } else {
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

/// SAT's public test CSD (EKU9003173C9).
pub fn eku_csd(fx: &Path) -> Csd {
    let d = fx.join("csd/EKU9003173C9");
    Csd::from_files(
        &d.join("EKU9003173C9.cer"),
        &d.join("EKU9003173C9.key"),
        &d.join("password.txt"),
    )
    .expect("load the EKU test CSD")
}

/// The value of attribute `name` on the first element that has it.
pub fn attr(xml: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = xml.find(&needle)? + needle.len();
    let end = xml[start..].find('"')? + start;
    Some(xml[start..end].to_string())
}

/// The text of the first element named `name` (no attributes on it).
pub fn attr_text(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let start = xml.find(&open).map(|i| i + open.len()).unwrap_or(0);
    let end = xml[start..].find('<').map(|i| i + start).unwrap_or(start);
    xml[start..end].to_string()
}
