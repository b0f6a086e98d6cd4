//! A lecturista's (meter reader's) route file: the CSV a handheld or a spreadsheet
//! exports after a day of readings, one row per visit, checked row by row.
//!
//! - Header row required; column names are matched without regard to case, accents
//!   or surrounding spaces, in any order: `medidor`, `lectura`, `fecha` and, optional,
//!   `observacion` (`Observación`, `OBSERVACIONES` …). Other columns are ignored.
//! - `,` or `;` as delimiter (Excel in Spanish exports `;`), detected from the header;
//!   a UTF-8 BOM is skipped. The file must be UTF-8: a file that is not (an "ANSI" or
//!   UTF-16 export) is refused with a message that says how to save it.
//! - `lectura` is m³ with up to 3 decimals, `.` or `,` as decimal separator, and
//!   becomes exact integer litres (`1234,567` → 1 234 567 L), never through a float.
//! - `fecha` is RFC 3339, `AAAA-MM-DD HH:MM[:SS]` or `DD/MM/AAAA HH:MM[:SS]`; without
//!   an offset it is Mexico City local time. A local time that happened twice (the
//!   autumn change) or never (the spring gap) — only possible for dates before the
//!   end of daylight saving time in October 2022 — resolves to the earliest instant it
//!   could mean.
//! - A visit that could not read the meter (`sin acceso`, `medidor dañado`, `medidor
//!   opaco`) may leave `lectura` empty; every other row needs one. A row dated more
//!   than [`CLOCK_SKEW`] after `now` is refused.
//!
//! [`read_route`] reads the file lazily: each call to the iterator reads one record
//! from the input and gives its [`RowVerdict`], so a 100 000-row file is never in
//! memory as rows and the caller can take it in chunks (off the async runtime: the
//! reader does blocking I/O on whatever `Read` it is given). Blank lines and rows with
//! every field empty (Excel's trailing `;;;`) are skipped without a verdict.
//!
//! [`report_csv`] writes the per-row result that staff download.

use std::io::{BufRead, BufReader, Chain, Cursor, Read};

use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::America::Mexico_City;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::validate::CLOCK_SKEW;
use crate::{Error, Result};

/// How much of the file is checked for UTF-8 (and for the header) before any row is
/// read, so that a file in the wrong encoding fails as a whole rather than row by row.
const SNIFF_BYTES: usize = 64 * 1024;

/// The longest record accepted (a stray quote must not make the rest of the file one
/// record held in memory).
const MAX_RECORD_BYTES: usize = 64 * 1024;

/// The longest meter serial accepted.
const MAX_SERIAL_CHARS: usize = 40;

/// The longest free-text observation kept.
const MAX_OTHER_CHARS: usize = 80;

/// What the lecturista noted at the meter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Observation {
    /// Read normally (the observation was empty or `lectura normal`).
    Normal,
    /// `sin acceso`: could not reach the meter.
    NoAccess,
    /// `medidor dañado`.
    Damaged,
    /// `medidor opaco` / `empañado` / `ilegible`: the dial cannot be read.
    Unreadable,
    /// `predio deshabitado`: nobody lives there (the meter is still read).
    Vacant,
    /// `fuga visible`.
    VisibleLeak,
    /// Anything else, as written (trimmed, spaces collapsed, at most 80 characters).
    Other(String),
}

impl Observation {
    /// Recognise what a lecturista wrote, ignoring case, accents, `_`/`-` and extra
    /// spaces (`dañado`, `danado`, `DAÑADO`). The codes of [`Observation::code`] are
    /// recognised too.
    pub fn parse(text: &str) -> Observation {
        match fold(text).as_str() {
            "" | "normal" | "lectura normal" | "valida" | "lectura valida" => Observation::Normal,
            "sin acceso" => Observation::NoAccess,
            "medidor danado" | "danado" => Observation::Damaged,
            "medidor opaco" | "opaco" | "medidor empanado" | "empanado" | "medidor ilegible"
            | "ilegible" => Observation::Unreadable,
            "predio deshabitado" | "deshabitado" | "deshabitada" => Observation::Vacant,
            "fuga visible" | "fuga" => Observation::VisibleLeak,
            _ => {
                let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
                Observation::Other(words.chars().take(MAX_OTHER_CHARS).collect())
            }
        }
    }

    /// The code stored with the visit.
    pub fn code(&self) -> &'static str {
        match self {
            Observation::Normal => "valida",
            Observation::NoAccess => "sin_acceso",
            Observation::Damaged => "medidor_danado",
            Observation::Unreadable => "ilegible",
            Observation::Vacant => "deshabitado",
            Observation::VisibleLeak => "fuga_visible",
            Observation::Other(_) => "otra",
        }
    }

    /// In plain Spanish, for staff.
    pub fn label(&self) -> &str {
        match self {
            Observation::Normal => "lectura normal",
            Observation::NoAccess => "sin acceso",
            Observation::Damaged => "medidor dañado",
            Observation::Unreadable => "medidor ilegible",
            Observation::Vacant => "predio deshabitado",
            Observation::VisibleLeak => "fuga visible",
            Observation::Other(text) => text,
        }
    }

    /// Whether a row with this observation must carry a reading. Only a visit that
    /// could not read the meter may leave it empty.
    pub fn reading_required(&self) -> bool {
        !matches!(
            self,
            Observation::NoAccess | Observation::Damaged | Observation::Unreadable
        )
    }
}

/// One accepted row of the route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRow {
    /// 1-based line of the file where the row starts (the header is line 1).
    pub line: u64,
    /// Meter serial, trimmed and uppercased.
    pub serial: String,
    pub at: DateTime<Utc>,
    /// The register in litres; `None` for a visit that could not read the meter.
    pub litres: Option<u64>,
    pub observation: Observation,
}

/// What became of one row of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowVerdict {
    Ok(RouteRow),
    Rejected {
        /// 1-based line of the file where the row starts.
        line: u64,
        /// The row's meter serial, when it had a valid one.
        serial: Option<String>,
        /// The column at fault (`medidor`, `lectura`, `fecha`, or `archivo` when the
        /// row itself could not be read).
        field: &'static str,
        /// Plain Spanish for staff, e.g. "la lectura «12a» no es un número".
        message: String,
    },
}

impl RowVerdict {
    /// The line of the file where the row starts.
    pub fn line(&self) -> u64 {
        match self {
            RowVerdict::Ok(row) => row.line,
            RowVerdict::Rejected { line, .. } => *line,
        }
    }

    /// The row's line in the staff report: `aceptada`, `sin_lectura` or `rechazada`
    /// (`duplicada` is for the caller, who knows what is already stored).
    pub fn report_line(&self) -> ReportLine {
        match self {
            RowVerdict::Ok(row) => {
                let (outcome, detail) = match row.litres {
                    Some(litres) => {
                        let volume = format!("{}.{:03} m³", litres / 1000, litres % 1000);
                        let detail = if row.observation == Observation::Normal {
                            volume
                        } else {
                            format!("{volume}; {}", row.observation.label())
                        };
                        (ReportLine::ACEPTADA, detail)
                    }
                    None => (ReportLine::SIN_LECTURA, row.observation.label().to_owned()),
                };
                ReportLine {
                    line: row.line,
                    serial: Some(row.serial.clone()),
                    outcome,
                    detail,
                }
            }
            RowVerdict::Rejected {
                line,
                serial,
                message,
                ..
            } => ReportLine {
                line: *line,
                serial: serial.clone(),
                outcome: ReportLine::RECHAZADA,
                detail: message.clone(),
            },
        }
    }
}

/// Which column holds what.
#[derive(Debug, Clone, Copy)]
struct Columns {
    serial: usize,
    reading: usize,
    at: usize,
    observation: Option<usize>,
}

/// The rows of a route file, one [`RowVerdict`] per call; see [`read_route`].
pub struct RouteReader<R: Read> {
    input: BufReader<Chain<Cursor<Vec<u8>>, R>>,
    parser: csv::ReaderBuilder,
    /// The CSV parser, fed one record at a time (so that lines are counted here).
    csv: csv::Reader<Feed>,
    /// Bytes given to `csv` so far (to check it took each record whole).
    fed: u64,
    delimiter: u8,
    columns: Columns,
    now: DateTime<Utc>,
    /// Physical line number of the next line to be read.
    next_line: u64,
    buf: Vec<u8>,
    record: csv::StringRecord,
    done: bool,
}

impl<R: Read> std::fmt::Debug for RouteReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteReader")
            .field("columns", &self.columns)
            .field("now", &self.now)
            .field("next_line", &self.next_line)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// Open a route file: read its header (and check that the start of the file is UTF-8)
/// and return the reader of its rows. `Err` only for what is wrong with the file as a
/// whole: empty, not UTF-8, required columns missing or repeated, or unreadable.
pub fn read_route<R: Read>(mut input: R, now: DateTime<Utc>) -> Result<RouteReader<R>> {
    let mut head = Vec::with_capacity(SNIFF_BYTES.min(8 * 1024));
    (&mut input)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| Error::invalid("archivo", format!("no se pudo leer el archivo: {e}")))?;
    let complete = head.len() < SNIFF_BYTES;
    check_utf8(&head, complete)?;
    if head.starts_with(b"\xEF\xBB\xBF") {
        head.drain(..3);
    }
    let delimiter = sniff_delimiter(&head);
    let mut parser = csv::ReaderBuilder::new();
    parser
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .delimiter(delimiter)
        .terminator(csv::Terminator::Any(b'\n'));

    let mut reader = RouteReader {
        input: BufReader::new(Cursor::new(head).chain(input)),
        csv: parser.from_reader(Feed::default()),
        parser,
        fed: 0,
        delimiter,
        columns: Columns {
            serial: 0,
            reading: 0,
            at: 0,
            observation: None,
        },
        now,
        next_line: 1,
        buf: Vec::new(),
        record: csv::StringRecord::new(),
        done: false,
    };

    // The header: the first line that is not blank.
    loop {
        match reader.next_record() {
            Err(e) => {
                return Err(Error::invalid(
                    "archivo",
                    format!("no se pudo leer el archivo: {e}"),
                ));
            }
            Ok(None) => return Err(Error::invalid("archivo", "el archivo está vacío")),
            Ok(Some((line, Record::TooLong))) => {
                return Err(Error::invalid(
                    "encabezado",
                    format!("la línea {line} es demasiado larga para ser el encabezado"),
                ));
            }
            Ok(Some((_, Record::Bytes))) => {}
        }
        match reader.parse_record() {
            Ok(true) => break,
            Ok(false) => continue,
            Err(message) => return Err(Error::invalid("encabezado", message)),
        }
    }
    reader.columns = columns(&reader.record)?;
    Ok(reader)
}

/// The record the CSV parser reads next.
#[derive(Debug, Default)]
struct Feed {
    data: Vec<u8>,
    at: usize,
    /// The parser asked for more than the record (it did not see the record end).
    starved: bool,
}

impl Read for Feed {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.data.len() && !out.is_empty() {
            self.starved = true;
        }
        let n = out.len().min(self.data.len() - self.at);
        out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// What [`RouteReader::next_record`] found.
enum Record {
    /// A record is in `buf`.
    Bytes,
    /// The record was longer than [`MAX_RECORD_BYTES`] and was skipped.
    TooLong,
}

/// Where a record's scan stands, as the CSV parser would see it: a quote opens a
/// quoted field only at the start of a field, `""` inside one is a quote, and a line
/// break inside one does not end the record.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scan {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

impl<R: Read> RouteReader<R> {
    /// Read the next record's bytes into `buf` (without its line break) and return the
    /// line it starts on; `None` at the end of the file. Lines are counted here rather
    /// than by the CSV parser, whose count drifts with blank lines and `\r\n`.
    fn next_record(&mut self) -> std::io::Result<Option<(u64, Record)>> {
        self.buf.clear();
        let start = self.next_line;
        let mut scan = Scan::FieldStart;
        loop {
            let before = self.buf.len();
            let room = (MAX_RECORD_BYTES + 1).saturating_sub(before) as u64;
            let n = (&mut self.input)
                .take(room)
                .read_until(b'\n', &mut self.buf)?;
            if n == 0 {
                // End of file; a record still open (an unclosed quote) ends here.
                return Ok((before > 0).then_some((start, Record::Bytes)));
            }
            let newline = self.buf.last() == Some(&b'\n');
            if newline {
                self.next_line += 1;
            }
            if self.buf.len() > MAX_RECORD_BYTES {
                if !newline {
                    self.input.skip_until(b'\n')?;
                    self.next_line += 1;
                }
                self.buf.clear();
                return Ok(Some((start, Record::TooLong)));
            }
            for &b in &self.buf[before..] {
                scan = match (scan, b) {
                    (Scan::Quoted, b'"') => Scan::QuoteInQuoted,
                    (Scan::Quoted, _) => Scan::Quoted,
                    (Scan::FieldStart | Scan::QuoteInQuoted, b'"') => Scan::Quoted,
                    (_, b) if b == self.delimiter => Scan::FieldStart,
                    _ => Scan::Unquoted,
                };
            }
            if newline && scan == Scan::Quoted {
                continue; // a line break inside a quoted field
            }
            if newline {
                self.buf.pop();
                if self.buf.last() == Some(&b'\r') {
                    self.buf.pop();
                }
            }
            return Ok(Some((start, Record::Bytes)));
        }
    }

    /// Split `buf` into fields in `record`. `Ok(false)` for a record with every field
    /// empty; `Err` (Spanish) when it cannot be read.
    fn parse_record(&mut self) -> std::result::Result<bool, String> {
        if self.buf.iter().all(u8::is_ascii_whitespace) {
            // Blank (the parser would skip it and wait for the next record).
            return Ok(false);
        }
        if std::str::from_utf8(&self.buf).is_err() {
            return Err(NOT_UTF8_ROW.to_owned());
        }
        // Hand the record, with its line break back, to the parser, which stops right
        // after that line break.
        let feed = self.csv.get_mut();
        std::mem::swap(&mut feed.data, &mut self.buf);
        feed.data.push(b'\n');
        feed.at = 0;
        feed.starved = false;
        self.fed += feed.data.len() as u64;
        let read = self.csv.read_record(&mut self.record);
        if !matches!(read, Ok(true) | Err(_))
            || self.csv.get_mut().starved
            || self.csv.position().byte() != self.fed
        {
            // The parser did not see the record as one: a quote left open at the end
            // of the file (or, were the scan in `next_record` ever to disagree with
            // the parser, any record). Start a fresh parser for the next record.
            self.csv = self.parser.from_reader(Feed::default());
            self.fed = 0;
            return Err("no se pudo separar la fila en columnas; revise las comillas".to_owned());
        }
        match read {
            Ok(_) => Ok(self.record.iter().any(|f| !f.trim().is_empty())),
            Err(e) => Err(format!("no se pudo leer la fila: {e}")),
        }
    }

    /// The verdict on the row in `record`, which starts on `line`.
    fn verdict(&self, line: u64) -> RowVerdict {
        let get = |i: usize| self.record.get(i).unwrap_or("").trim();
        let reject =
            |serial: Option<&str>, field: &'static str, message: String| RowVerdict::Rejected {
                line,
                serial: serial.map(str::to_owned),
                field,
                message,
            };
        let serial = match parse_serial(get(self.columns.serial)) {
            Ok(serial) => serial,
            Err(message) => return reject(None, "medidor", message),
        };
        let at = match parse_at(get(self.columns.at)) {
            Ok(at) => at,
            Err(message) => return reject(Some(&serial), "fecha", message),
        };
        if at > self.now + CLOCK_SKEW {
            return reject(
                Some(&serial),
                "fecha",
                "la fecha está en el futuro".to_owned(),
            );
        }
        let observation = self
            .columns
            .observation
            .map_or(Observation::Normal, |i| Observation::parse(get(i)));
        let reading = get(self.columns.reading);
        let litres = if reading.is_empty() {
            if observation.reading_required() {
                return reject(
                    Some(&serial),
                    "lectura",
                    "falta la lectura (solo puede quedar vacía si la observación es \
                     «sin acceso», «medidor dañado» o «medidor opaco»)"
                        .to_owned(),
                );
            }
            None
        } else {
            match parse_litres(reading) {
                Ok(litres) => Some(litres),
                Err(message) => return reject(Some(&serial), "lectura", message),
            }
        };
        RowVerdict::Ok(RouteRow {
            line,
            serial,
            at,
            litres,
            observation,
        })
    }
}

impl<R: Read> Iterator for RouteReader<R> {
    type Item = RowVerdict;

    fn next(&mut self) -> Option<RowVerdict> {
        while !self.done {
            let (line, record) = match self.next_record() {
                Ok(Some(found)) => found,
                Ok(None) => break,
                Err(e) => {
                    self.done = true;
                    return Some(RowVerdict::Rejected {
                        line: self.next_line,
                        serial: None,
                        field: "archivo",
                        message: format!("no se pudo leer el resto del archivo: {e}"),
                    });
                }
            };
            let rejected = |message: String| RowVerdict::Rejected {
                line,
                serial: None,
                field: "archivo",
                message,
            };
            if let Record::TooLong = record {
                return Some(rejected(format!(
                    "la fila es demasiado larga (más de {} KiB); revise que no haya \
                     comillas sin cerrar",
                    MAX_RECORD_BYTES / 1024
                )));
            }
            match self.parse_record() {
                Ok(true) => return Some(self.verdict(line)),
                Ok(false) => continue,
                Err(message) => return Some(rejected(message)),
            }
        }
        self.done = true;
        None
    }
}

impl<R: Read> std::iter::FusedIterator for RouteReader<R> {}

const NOT_UTF8_ROW: &str = "la fila tiene caracteres que no son UTF-8; guarde el archivo \
                            desde Excel como «CSV UTF-8 (delimitado por comas)»";

/// Refuse a file whose start is not UTF-8. `complete`: `head` is the whole file (else
/// a character cut at the end of `head` is fine).
fn check_utf8(head: &[u8], complete: bool) -> Result<()> {
    let Err(e) = std::str::from_utf8(head) else {
        return Ok(());
    };
    if e.error_len().is_none() && !complete {
        return Ok(());
    }
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err(Error::invalid(
            "archivo",
            "el archivo está en UTF-16 («texto Unicode»), no en UTF-8; guárdelo desde \
             Excel como «CSV UTF-8 (delimitado por comas)»",
        ));
    }
    let line = 1 + head[..e.valid_up_to()]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    Err(Error::invalid(
        "archivo",
        format!(
            "el archivo no está en UTF-8 (hay un carácter no válido en la línea {line}); \
             guárdelo desde Excel como «CSV UTF-8 (delimitado por comas)»"
        ),
    ))
}

/// `;` when the header line has more of them than commas, else `,`.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let header = head
        .split(|&b| b == b'\n')
        .find(|line| !line.iter().all(u8::is_ascii_whitespace))
        .unwrap_or_default();
    let count = |c: u8| header.iter().filter(|&&b| b == c).count();
    if count(b';') > count(b',') {
        b';'
    } else {
        b','
    }
}

/// Which column is which, from the header record.
fn columns(header: &csv::StringRecord) -> Result<Columns> {
    const NAMES: [&str; 4] = ["medidor", "lectura", "fecha", "observación"];
    let mut found = [None; 4];
    for (i, name) in header.iter().enumerate() {
        let slot = match fold(name).as_str() {
            "medidor" => 0,
            "lectura" => 1,
            "fecha" => 2,
            "observacion" | "observaciones" => 3,
            _ => continue,
        };
        if found[slot].is_some() {
            return Err(Error::invalid(
                "encabezado",
                format!("la columna «{}» aparece dos veces", NAMES[slot]),
            ));
        }
        found[slot] = Some(i);
    }
    let missing: Vec<String> = (0..3)
        .filter(|&slot| found[slot].is_none())
        .map(|slot| format!("«{}»", NAMES[slot]))
        .collect();
    let missing = match missing.as_slice() {
        [] => {
            return Ok(Columns {
                serial: found[0].unwrap_or_default(),
                reading: found[1].unwrap_or_default(),
                at: found[2].unwrap_or_default(),
                observation: found[3],
            });
        }
        [one] => format!("falta la columna {one}"),
        [init @ .., last] => format!("faltan las columnas {} y {last}", init.join(", ")),
    };
    Err(Error::invalid(
        "encabezado",
        format!(
            "{missing}; el encabezado debe tener las columnas medidor, lectura y fecha \
             (observación es opcional)"
        ),
    ))
}

/// Lowercase, without accents, `_`/`-`/punctuation as spaces, spaces collapsed.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            // Combining accents (text in decomposed form).
            '\u{0300}'..='\u{036F}' => continue,
            '_' | '-' | '.' | ',' | ';' | ':' => ' ',
            c => c,
        };
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    out
}

/// A value as quoted back in a message (at most 40 characters).
fn shown(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

fn parse_serial(text: &str) -> std::result::Result<String, String> {
    if text.is_empty() {
        return Err("falta el medidor".to_owned());
    }
    if !text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    {
        return Err(format!(
            "el medidor «{}» tiene caracteres no válidos (solo letras sin acento, números, \
             guiones, puntos y diagonales)",
            shown(text)
        ));
    }
    if text.len() > MAX_SERIAL_CHARS {
        return Err(format!(
            "el medidor «{}» es demasiado largo (máximo {MAX_SERIAL_CHARS} caracteres)",
            shown(text)
        ));
    }
    Ok(text.to_ascii_uppercase())
}

/// Local formats, read as Mexico City time.
const LOCAL_FORMATS: [&str; 6] = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
];

fn parse_at(text: &str) -> std::result::Result<DateTime<Utc>, String> {
    if text.is_empty() {
        return Err("falta la fecha".to_owned());
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    LOCAL_FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .and_then(mexico_city_to_utc)
        .ok_or_else(|| {
            format!(
                "la fecha «{}» no se reconoce (use AAAA-MM-DD HH:MM o DD/MM/AAAA HH:MM)",
                shown(text)
            )
        })
}

/// Mexico City local time as UTC. A time the clocks showed twice is the earlier
/// instant; a time they skipped is read with the offset in force just before and just
/// after the gap, and the earlier of the two instants is taken.
fn mexico_city_to_utc(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    if let Some(at) = Mexico_City.from_local_datetime(&local).earliest() {
        return Some(at.with_timezone(&Utc));
    }
    [-Duration::days(1), Duration::days(1)]
        .into_iter()
        .filter_map(|shift| {
            let near = local.checked_add_signed(shift)?;
            let offset = Mexico_City.offset_from_local_datetime(&near).earliest()?;
            let utc = local
                .checked_sub_signed(Duration::seconds(i64::from(offset.fix().local_minus_utc())))?;
            Some(Utc.from_utc_datetime(&utc))
        })
        .min()
}

/// A register reading in m³ (up to 3 decimals, `.` or `,`) as exact litres.
fn parse_litres(text: &str) -> std::result::Result<u64, String> {
    let not_a_number = || format!("la lectura «{}» no es un número", shown(text));
    if text.starts_with('-') && text.len() > 1 {
        return Err(format!("la lectura «{}» es negativa", shown(text)));
    }
    let (whole, fraction) = match text.find([',', '.']) {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let has_separator = whole.len() < text.len();
    if whole.is_empty()
        || !digits(whole)
        || !digits(fraction)
        || (has_separator && fraction.is_empty())
    {
        return Err(not_a_number());
    }
    if fraction.len() > 3 {
        return Err(format!(
            "la lectura «{}» tiene más de 3 decimales (se anota en m³, hasta litros)",
            shown(text)
        ));
    }
    let too_big = || format!("la lectura «{}» es demasiado grande", shown(text));
    let m3 = Decimal::from_str_exact(&format!("{whole}.{fraction:0<3}")).map_err(|_| too_big())?;
    let litres = m3.checked_mul(Decimal::from(1000)).ok_or_else(too_big)?;
    debug_assert!(litres.fract().is_zero());
    litres.to_u64().ok_or_else(too_big)
}

/// One line of the per-row report staff download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLine {
    /// The row's line in the uploaded file.
    pub line: u64,
    pub serial: Option<String>,
    /// [`ReportLine::ACEPTADA`], [`ReportLine::DUPLICADA`], [`ReportLine::RECHAZADA`]
    /// or [`ReportLine::SIN_LECTURA`].
    pub outcome: &'static str,
    pub detail: String,
}

impl ReportLine {
    pub const ACEPTADA: &'static str = "aceptada";
    pub const DUPLICADA: &'static str = "duplicada";
    pub const RECHAZADA: &'static str = "rechazada";
    pub const SIN_LECTURA: &'static str = "sin_lectura";
}

/// The per-row report as CSV: `línea,medidor,resultado,detalle`, comma-delimited,
/// `\r\n` line ends, quoted where needed. It starts with a UTF-8 BOM so that Excel
/// shows the accents right, and a cell that Excel would take for a formula (`=`, `+`,
/// `-`, `@` first) is prefixed with `'`.
pub fn report_csv(rows: impl IntoIterator<Item = ReportLine>) -> String {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::from("\u{FEFF}".as_bytes()));
    let written = (|| -> csv::Result<()> {
        out.write_record(["línea", "medidor", "resultado", "detalle"])?;
        for row in rows {
            out.write_record([
                row.line.to_string().as_str(),
                &cell(row.serial.as_deref().unwrap_or("")),
                row.outcome,
                &cell(&row.detail),
            ])?;
        }
        out.flush()?;
        Ok(())
    })();
    written.expect("writing CSV to memory does not fail");
    let bytes = out
        .into_inner()
        .expect("writing CSV to memory does not fail");
    String::from_utf8(bytes).expect("CSV of strings is UTF-8")
}

/// A cell as text Excel will not evaluate.
fn cell(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 20, 18, 0, 0).unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn read(text: &str) -> Vec<RowVerdict> {
        read_route(text.as_bytes(), now()).expect("file").collect()
    }

    fn ok(v: &RowVerdict) -> &RouteRow {
        match v {
            RowVerdict::Ok(row) => row,
            other => panic!("expected Ok, got {other:?}"),
        }
    }

    fn rejected(v: &RowVerdict) -> (u64, Option<&str>, &'static str, &str) {
        match v {
            RowVerdict::Rejected {
                line,
                serial,
                field,
                message,
            } => (*line, serial.as_deref(), *field, message.as_str()),
            other => panic!("expected Rejected, got {other:?}"),
        }
    }

    fn file_error(text: &[u8]) -> String {
        match read_route(text, now()) {
            Err(Error::Invalid { reason, .. }) => reason,
            Ok(_) => panic!("expected a file-level error"),
        }
    }

    #[test]
    fn mixed_good_and_bad_rows() {
        let rows = read(
            "medidor,lectura,fecha,observacion\n\
             itr-19-0001234 ,1234.567,2026-01-15 08:30,\n\
             ITR-19-0001235,12a,2026-01-15 08:31,\n\
             ITR-19-0001236,10,,\n\
             ITR-19-0001237,10,2026-01-20 12:06,\n\
             ITR-19-0001238,10,2026-01-20 12:04,fuga visible\n\
             ,10,2026-01-15 08:30,\n\
             ITR-19-0001239,1.2345,2026-01-15 08:30,\n\
             ITR-19-0001240,10,ayer,\n",
        );
        assert_eq!(rows.len(), 8);
        let first = ok(&rows[0]);
        assert_eq!(first.line, 2);
        assert_eq!(first.serial, "ITR-19-0001234");
        assert_eq!(first.litres, Some(1_234_567));
        assert_eq!(first.at, utc(2026, 1, 15, 14, 30));
        assert_eq!(first.observation, Observation::Normal);
        assert_eq!(
            rejected(&rows[1]),
            (
                3,
                Some("ITR-19-0001235"),
                "lectura",
                "la lectura «12a» no es un número"
            )
        );
        assert_eq!(
            rejected(&rows[2]),
            (4, Some("ITR-19-0001236"), "fecha", "falta la fecha")
        );
        // 12:06 local = 18:06Z, six minutes ahead of `now`.
        assert_eq!(
            rejected(&rows[3]),
            (
                5,
                Some("ITR-19-0001237"),
                "fecha",
                "la fecha está en el futuro"
            )
        );
        // Four minutes ahead is within the clock skew.
        let leak = ok(&rows[4]);
        assert_eq!(leak.observation, Observation::VisibleLeak);
        assert_eq!(leak.litres, Some(10_000));
        assert_eq!(rejected(&rows[5]), (7, None, "medidor", "falta el medidor"));
        let (line, _, field, message) = rejected(&rows[6]);
        assert_eq!((line, field), (8, "lectura"));
        assert!(message.contains("más de 3 decimales"), "{message}");
        let (line, _, field, message) = rejected(&rows[7]);
        assert_eq!((line, field), (9, "fecha"));
        assert!(
            message.starts_with("la fecha «ayer» no se reconoce"),
            "{message}"
        );
    }

    #[test]
    fn unknown_columns_are_a_file_error_naming_what_is_missing() {
        let reason = file_error(b"serie,valor,cuando\nA,1,2026-01-15 08:30\n");
        assert!(
            reason.starts_with("faltan las columnas «medidor», «lectura» y «fecha»"),
            "{reason}"
        );
        let reason = file_error(b"medidor;lectura;observacion\nA;1;\n");
        assert!(reason.starts_with("falta la columna «fecha»"), "{reason}");
        let err = read_route(&b"medidor,lectura\n"[..], now()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "dato inválido en encabezado: falta la columna «fecha»; el encabezado debe \
             tener las columnas medidor, lectura y fecha (observación es opcional)"
        );
        let reason = file_error(b"medidor,lectura,fecha,Medidor\n");
        assert_eq!(reason, "la columna «medidor» aparece dos veces");
    }

    #[test]
    fn extra_columns_and_any_order() {
        let rows = read(
            "ruta,fecha,lector,lectura,medidor\n\
             R1,2026-01-15 08:30,Juan,7,abc-1\n",
        );
        let row = ok(&rows[0]);
        assert_eq!(row.serial, "ABC-1");
        assert_eq!(row.litres, Some(7_000));
    }

    #[test]
    fn semicolon_decimal_comma_bom_and_accented_header() {
        let rows = read(
            "\u{FEFF}Medidor;LECTURA;Fecha;Observación\r\n\
             ITR-1;1234,567;15/01/2026 08:30;Medidor DAÑADO\r\n\
             ITR-2;\"0,5\";15/01/2026 08:30:15;\r\n",
        );
        assert_eq!(rows.len(), 2);
        let a = ok(&rows[0]);
        assert_eq!(a.line, 2);
        assert_eq!(a.litres, Some(1_234_567));
        assert_eq!(a.observation, Observation::Damaged);
        let b = ok(&rows[1]);
        assert_eq!(b.line, 3);
        assert_eq!(b.litres, Some(500));
        assert_eq!(b.at, Utc.with_ymd_and_hms(2026, 1, 15, 14, 30, 15).unwrap());
    }

    #[test]
    fn empty_reading_only_when_the_meter_could_not_be_read() {
        let rows = read(
            "medidor,lectura,fecha,observación\n\
             A-1,,2026-01-15 08:30,sin acceso\n\
             A-2,,2026-01-15 08:30,\n\
             A-3,,2026-01-15 08:30,Medidor Opaco\n\
             A-4,,2026-01-15 08:30,predio deshabitado\n\
             A-5,,2026-01-15 08:30,lectura normal\n\
             A-6,3,2026-01-15 08:30,medidor  dañado\n",
        );
        let a = ok(&rows[0]);
        assert_eq!((a.litres, &a.observation), (None, &Observation::NoAccess));
        for (i, line) in [(1, 3), (3, 5), (4, 6)] {
            let (l, serial, field, message) = rejected(&rows[i]);
            assert_eq!((l, field), (line, "lectura"));
            assert!(serial.is_some());
            assert!(message.starts_with("falta la lectura"), "{message}");
        }
        assert_eq!(ok(&rows[2]).observation, Observation::Unreadable);
        // A reading is kept even when the observation would allow none.
        let f = ok(&rows[5]);
        assert_eq!(
            (f.litres, &f.observation),
            (Some(3_000), &Observation::Damaged)
        );
    }

    #[test]
    fn mexico_city_local_time_becomes_utc() {
        let at = |text: &str| parse_at(text).unwrap();
        assert_eq!(at("15/01/2026 08:30"), utc(2026, 1, 15, 14, 30));
        assert_eq!(at("2026-01-15 08:30"), utc(2026, 1, 15, 14, 30));
        assert_eq!(at("2026-01-15T08:30:00"), utc(2026, 1, 15, 14, 30));
        // No daylight saving time since October 2022: July is still UTC−6.
        assert_eq!(at("15/07/2025 08:30"), utc(2025, 7, 15, 14, 30));
        // With an offset, the offset rules.
        assert_eq!(at("2026-01-15T08:30:00-05:00"), utc(2026, 1, 15, 13, 30));
        assert_eq!(at("2026-01-15T14:30:00Z"), utc(2026, 1, 15, 14, 30));
        // In 2022 summer time applied (UTC−5).
        assert_eq!(at("2022-07-15 08:30"), utc(2022, 7, 15, 13, 30));
        // 30 Oct 2022 01:30 happened twice (CDT, then CST): the earlier one.
        assert_eq!(at("30/10/2022 01:30"), utc(2022, 10, 30, 6, 30));
        // 3 Apr 2022 02:30 never happened (02:00 CST → 03:00 CDT): the earliest reading.
        assert_eq!(at("03/04/2022 02:30"), utc(2022, 4, 3, 7, 30));
        assert!(parse_at("31/02/2026 08:30").is_err());
        assert!(parse_at("15/01/2026").is_err());
    }

    #[test]
    fn readings_in_m3_are_exact_litres() {
        assert_eq!(parse_litres("0"), Ok(0));
        assert_eq!(parse_litres("1234"), Ok(1_234_000));
        assert_eq!(parse_litres("1234.5"), Ok(1_234_500));
        assert_eq!(parse_litres("1234,56"), Ok(1_234_560));
        assert_eq!(parse_litres("0001234.567"), Ok(1_234_567));
        for bad in [
            "12a", "1.2.3", "1,234.5", ".5", "5.", "+5", "1e3", "1_000", "1 000",
        ] {
            let message = parse_litres(bad).unwrap_err();
            assert_eq!(message, format!("la lectura «{bad}» no es un número"));
        }
        assert!(parse_litres("-5").unwrap_err().contains("negativa"));
        assert!(
            parse_litres("1.5000")
                .unwrap_err()
                .contains("más de 3 decimales")
        );
        assert!(
            parse_litres("99999999999999999999")
                .unwrap_err()
                .contains("demasiado grande")
        );
        assert_eq!(parse_litres("18446744073709551.615"), Ok(u64::MAX));
    }

    #[test]
    fn observations_are_normalised() {
        let cases = [
            ("", Observation::Normal),
            ("  Lectura   NORMAL ", Observation::Normal),
            ("valida", Observation::Normal),
            ("SIN ACCESO", Observation::NoAccess),
            ("sin_acceso", Observation::NoAccess),
            ("medidor dañado", Observation::Damaged),
            ("medidor danado", Observation::Damaged),
            ("MEDIDOR DAÑADO.", Observation::Damaged),
            ("medidor_danado", Observation::Damaged),
            // "ñ" as n + combining tilde.
            ("medidor dan\u{0303}ado", Observation::Damaged),
            ("medidor opaco", Observation::Unreadable),
            ("Medidor empañado", Observation::Unreadable),
            ("ilegible", Observation::Unreadable),
            ("Predio deshabitado", Observation::Vacant),
            ("fuga visible", Observation::VisibleLeak),
            ("fuga_visible", Observation::VisibleLeak),
            (
                "  perro   bravo ",
                Observation::Other("perro bravo".to_owned()),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(Observation::parse(text), expected, "{text:?}");
        }
        let long = "x".repeat(200);
        assert_eq!(
            Observation::parse(&long),
            Observation::Other("x".repeat(80))
        );
        let codes = [
            Observation::Normal,
            Observation::NoAccess,
            Observation::Damaged,
            Observation::Unreadable,
            Observation::Vacant,
            Observation::VisibleLeak,
        ];
        for o in codes {
            assert_eq!(Observation::parse(o.code()), o, "code {}", o.code());
            assert_eq!(Observation::parse(o.label()), o, "label {}", o.label());
        }
        assert_eq!(Observation::Other("x".into()).code(), "otra");
    }

    #[test]
    fn not_utf8_is_refused_clearly() {
        // Windows-1252: "dañado" with ñ = 0xF1.
        let reason =
            file_error(b"medidor,lectura,fecha,observacion\nA,1,2026-01-15 08:30,da\xF1ado\n");
        assert!(
            reason.starts_with("el archivo no está en UTF-8"),
            "{reason}"
        );
        assert!(reason.contains("línea 2"), "{reason}");
        assert!(reason.contains("CSV UTF-8"), "{reason}");
        let reason = file_error(b"\xFF\xFEm\0e\0d\0");
        assert!(reason.contains("UTF-16"), "{reason}");
        // Past the part checked up front, the row is refused and reading goes on.
        let mut text = String::from("medidor,lectura,fecha\n");
        while text.len() < SNIFF_BYTES + 100 {
            text.push_str("A-1,1,2026-01-15 08:30\n");
        }
        let good = text.lines().count() - 1;
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(b"A-\xF1,1,2026-01-15 08:30\nA-2,2,2026-01-15 08:30\n");
        let rows: Vec<_> = read_route(&bytes[..], now()).unwrap().collect();
        assert_eq!(rows.len(), good + 2);
        let (line, serial, field, message) = rejected(&rows[good]);
        assert_eq!((line, serial, field), (good as u64 + 2, None, "archivo"));
        assert!(message.contains("UTF-8"), "{message}");
        assert_eq!(ok(&rows[good + 1]).serial, "A-2");
    }

    #[test]
    fn empty_files() {
        assert_eq!(file_error(b""), "el archivo está vacío");
        assert_eq!(file_error(b"\xEF\xBB\xBF \r\n\n"), "el archivo está vacío");
        assert!(read("medidor,lectura,fecha\n").is_empty());
        assert!(read("medidor;lectura;fecha").is_empty());
    }

    #[test]
    fn line_numbers_follow_the_file() {
        let rows = read(
            "\r\n\
             medidor,lectura,fecha,observacion\r\n\
             A-1,1,2026-01-15 08:30,\r\n\
             \r\n\
             ,,,\r\n\
             A-2,2,2026-01-15 08:30,\"sin acceso,\r\nperro bravo\"\r\n\
             A-3,x,2026-01-15 08:30,\r\n\
             A-4,4,2026-01-15 08:30,\"dice \"\"ojo\"\"\"",
        );
        let lines: Vec<u64> = rows.iter().map(RowVerdict::line).collect();
        assert_eq!(lines, [3, 6, 8, 9]);
        assert_eq!(
            ok(&rows[1]).observation,
            Observation::Other("sin acceso, perro bravo".to_owned())
        );
        assert_eq!(rejected(&rows[2]).0, 8);
        assert_eq!(
            ok(&rows[3]).observation,
            Observation::Other("dice \"ojo\"".to_owned())
        );
        // A quote inside an unquoted field is literal and does not swallow lines.
        let rows =
            read("medidor,lectura,fecha\nA-1,1\"2,2026-01-15 08:30\nA-2,2,2026-01-15 08:30\n");
        assert_eq!(rejected(&rows[0]).0, 2);
        assert_eq!(ok(&rows[1]).line, 3);
    }

    #[test]
    fn an_unclosed_quote_does_not_swallow_the_file() {
        let mut text = String::from("medidor,lectura,fecha\nA-1,\"1,2026-01-15 08:30\n");
        for _ in 0..5000 {
            text.push_str("A-2,2,2026-01-15 08:30\n");
        }
        let rows: Vec<_> = read_route(text.as_bytes(), now()).unwrap().collect();
        let (line, _, field, message) = rejected(&rows[0]);
        assert_eq!((line, field), (2, "archivo"));
        assert!(message.contains("demasiado larga"), "{message}");
        // Reading resumes at the next line.
        assert!(rows.len() > 1);
        assert!(matches!(rows.last(), Some(RowVerdict::Ok(_))));
        // A quote left open in the last row.
        let rows = read("medidor,lectura,fecha\nA-1,1,2026-01-15 08:30\nA-2,\"2,2026-01-15 08:30");
        assert_eq!(ok(&rows[0]).line, 2);
        let (line, _, field, message) = rejected(&rows[1]);
        assert_eq!((line, field), (3, "archivo"));
        assert!(message.contains("comillas"), "{message}");
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn the_reader_can_move_to_a_blocking_thread() {
        fn send<T: Send + 'static>() {}
        send::<RouteReader<std::fs::File>>();
    }

    #[test]
    fn serials_are_checked() {
        let rows = read(
            "medidor,lectura,fecha\n\
             ITR 19,1,2026-01-15 08:30\n\
             ñ-1,1,2026-01-15 08:30\n\
             \u{a0}abc/19.x_1\u{a0},1,2026-01-15 08:30\n",
        );
        assert!(rejected(&rows[0]).3.contains("caracteres no válidos"));
        assert!(rejected(&rows[1]).3.contains("caracteres no válidos"));
        assert_eq!(ok(&rows[2]).serial, "ABC/19.X_1");
        let long = format!(
            "medidor,lectura,fecha\n{},1,2026-01-15 08:30\n",
            "A".repeat(41)
        );
        assert!(
            read(&long)
                .iter()
                .all(|r| rejected(r).3.contains("demasiado largo"))
        );
    }

    #[test]
    fn report_is_quoted_csv_for_excel() {
        let rows = read(
            "medidor,lectura,fecha,observacion\n\
             A-1,1234.5,2026-01-15 08:30,\n\
             A-2,,2026-01-15 08:30,sin acceso\n\
             A-3,12a,2026-01-15 08:30,\n\
             A-4,1,2026-01-15 08:30,fuga visible\n",
        );
        let mut lines: Vec<ReportLine> = rows.iter().map(RowVerdict::report_line).collect();
        lines.push(ReportLine {
            line: 9,
            serial: Some("=HYPERLINK(\"x\")".into()),
            outcome: ReportLine::DUPLICADA,
            detail: "ya registrada, con \"comillas\"\ny salto".into(),
        });
        let csv = report_csv(lines);
        assert_eq!(
            csv,
            "\u{FEFF}línea,medidor,resultado,detalle\r\n\
             2,A-1,aceptada,1234.500 m³\r\n\
             3,A-2,sin_lectura,sin acceso\r\n\
             4,A-3,rechazada,la lectura «12a» no es un número\r\n\
             5,A-4,aceptada,1.000 m³; fuga visible\r\n\
             9,\"'=HYPERLINK(\"\"x\"\")\",duplicada,\"ya registrada, con \"\"comillas\"\"\ny salto\"\r\n"
        );
        // It reads back with the csv crate.
        let mut back = csv::Reader::from_reader(csv.trim_start_matches('\u{FEFF}').as_bytes());
        let records: Vec<csv::StringRecord> = back.records().map(|r| r.unwrap()).collect();
        assert_eq!(records.len(), 5);
        assert_eq!(&records[4][3], "ya registrada, con \"comillas\"\ny salto");
        assert_eq!(
            report_csv([]),
            "\u{FEFF}línea,medidor,resultado,detalle\r\n"
        );
    }

    /// A route file made row by row as it is read, counting the bytes served.
    struct Generated {
        rows: u64,
        next: u64,
        pending: Vec<u8>,
        at: usize,
        served: Rc<Cell<u64>>,
    }

    impl Read for Generated {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.at == self.pending.len() {
                if self.next > self.rows {
                    return Ok(0);
                }
                self.pending = if self.next == 0 {
                    "medidor;lectura;fecha;observación\n".into()
                } else {
                    let i = self.next;
                    format!(
                        "ITR-{i:07};{},{:03};15/01/2026 {:02}:{:02};{}\n",
                        i / 7,
                        i % 1000,
                        i % 24,
                        i % 60,
                        if i.is_multiple_of(10) {
                            "sin acceso"
                        } else {
                            ""
                        }
                    )
                    .into_bytes()
                };
                self.next += 1;
                self.at = 0;
            }
            let n = out.len().min(self.pending.len() - self.at);
            out[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
            self.at += n;
            self.served.set(self.served.get() + n as u64);
            Ok(n)
        }
    }

    #[test]
    fn a_large_file_is_read_lazily() {
        const ROWS: u64 = 100_000;
        let served = Rc::new(Cell::new(0));
        let input = Generated {
            rows: ROWS,
            next: 0,
            pending: Vec::new(),
            at: 0,
            served: served.clone(),
        };
        let mut reader = read_route(input, now()).expect("file");
        let first = reader.next().expect("a row");
        assert_eq!(ok(&first).line, 2);
        // Only the part checked up front (and one buffer) has been read.
        assert!(
            served.get() <= (SNIFF_BYTES + 8 * 1024) as u64,
            "{}",
            served.get()
        );
        let mut count = 1u64;
        for verdict in reader.by_ref() {
            let row = ok(&verdict);
            count += 1;
            assert_eq!(row.line, count + 1);
            assert_eq!(row.serial, format!("ITR-{count:07}"));
        }
        assert_eq!(count, ROWS);
        assert!(reader.next().is_none());
        assert!(served.get() > 30 * ROWS);
    }

    proptest! {
        #[test]
        fn m3_with_up_to_three_decimals_is_exact_litres(
            whole in 0u64..10_000_000_000_000,
            places in 0u32..=3,
            fraction in 0u64..1000,
            comma in any::<bool>(),
        ) {
            let fraction = fraction % 10u64.pow(places);
            let text = if places == 0 {
                whole.to_string()
            } else {
                let sep = if comma { ',' } else { '.' };
                format!("{whole}{sep}{fraction:0width$}", width = places as usize)
            };
            let expected = whole * 1000 + fraction * 10u64.pow(3 - places);
            prop_assert_eq!(parse_litres(&text), Ok(expected));
        }

        #[test]
        fn litres_written_as_m3_read_back(litres in any::<u64>()) {
            let text = format!("{}.{:03}", litres / 1000, litres % 1000);
            prop_assert_eq!(parse_litres(&text), Ok(litres));
        }

        #[test]
        fn more_than_three_decimals_is_refused(whole in 0u64..1_000_000, extra in "[0-9]{4,8}") {
            let message = parse_litres(&format!("{whole}.{extra}")).unwrap_err();
            prop_assert!(message.contains("más de 3 decimales"));
        }
    }
}
