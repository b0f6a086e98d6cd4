//! Domiciliación (direct debit), the pure parts: a mandate the payer signed, the
//! monthly collection file for the sponsoring bank and the bank's results, and what to
//! do after each result.
//!
//! Banks publish their own fixed-width layouts (no public CECOBAN layout exists; see
//! `../shared/reference/integrations.md` §5), so layouts are a trait: [`BankLayout`]
//! exports a batch and reads the results file. [`FixedWidthV1`] is the layout this
//! repository ships (header `H`, one `D` per debit, trailer `T` with count and total;
//! results `R` per debit) until the utility's bank hands over its own.
//!
//! Bounce rules ([`next_step`]): insufficient funds are retried `retry_after_days`
//! later, up to `max_attempts` in all; a closed account or an invalid CLABE
//! deactivates the mandate (and the payer is told); anything else fails this debit.

use chrono::{Duration, NaiveDate};
use domain::Clabe;
use unicode_normalization::UnicodeNormalization;

use crate::{Error, Result};

/// Longest holder name the layout carries.
pub const HOLDER_LEN: usize = 40;
/// Longest debit reference.
pub const REFERENCE_LEN: usize = 20;

/// A payer's signed authorisation to debit their account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mandate {
    pub clabe: Clabe,
    /// As the bank expects it: ASCII capitals, at most 40 characters.
    pub holder: String,
    /// The most one debit may take, centavos.
    pub max_centavos: i64,
    pub signed_on: NaiveDate,
}

/// Capitals without accents, `Ñ` as `N`, other symbols as spaces, cut to `len`.
pub fn bank_text(s: &str, len: usize) -> String {
    let ascii: String = s
        .nfd()
        .filter(|c| c.is_ascii())
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                ' '
            }
        })
        .collect();
    ascii
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(len)
        .collect()
}

impl Mandate {
    pub fn new(
        clabe: &str,
        holder: &str,
        max_centavos: i64,
        signed_on: NaiveDate,
        today: NaiveDate,
    ) -> Result<Mandate> {
        let clabe: Clabe = clabe
            .trim()
            .parse()
            .map_err(|e: domain::InvalidValue| Error::invalid("clabe", e.message))?;
        let holder = bank_text(holder, HOLDER_LEN);
        if holder.is_empty() {
            return Err(Error::invalid(
                "titular",
                "escriba el nombre del titular de la cuenta",
            ));
        }
        if max_centavos <= 0 {
            return Err(Error::invalid(
                "maximo",
                "el monto máximo debe ser mayor que cero",
            ));
        }
        if signed_on > today {
            return Err(Error::invalid(
                "firmado",
                "la fecha de firma no puede ser futura",
            ));
        }
        Ok(Mandate {
            clabe,
            holder,
            max_centavos,
            signed_on,
        })
    }

    /// What to debit for `owed_centavos`: all of it up to the mandate's maximum.
    pub fn debit_for(&self, owed_centavos: i64) -> Option<i64> {
        (owed_centavos > 0).then(|| owed_centavos.min(self.max_centavos))
    }
}

/// One debit in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebitLine {
    /// Ours, echoed back in the results (e.g. `D000123A2`): letters and digits.
    pub reference: String,
    pub clabe: Clabe,
    pub holder: String,
    pub centavos: i64,
}

/// The batch's header data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchHeader {
    /// The utility's id at the bank (emisora), up to 10 characters.
    pub emisora: String,
    pub batch: u32,
    pub charge_date: NaiveDate,
}

/// What the bank did with one debit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Cobrado,
    FondosInsuficientes,
    CuentaCancelada,
    ClabeInvalida,
    /// Any other rejection, with the bank's code.
    Rechazado(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebitResult {
    pub reference: String,
    pub outcome: Outcome,
}

/// A bank's file layout.
pub trait BankLayout {
    fn name(&self) -> &'static str;
    fn export(&self, header: &BatchHeader, lines: &[DebitLine]) -> Result<String>;
    fn parse_results(&self, text: &str) -> Result<Vec<DebitResult>>;
}

/// The layout shipped here: 100-character records, CRLF line ends.
///
/// | record | columns |
/// |---|---|
/// | `H` | 1 `H` · 2–11 emisora · 12–17 batch · 18–25 charge date `AAAAMMDD` · blanks |
/// | `D` | 1 `D` · 2–7 sequence · 8–27 reference · 28–45 CLABE · 46–85 holder · 86–100 amount in centavos |
/// | `T` | 1 `T` · 2–7 debit count · 8–25 total in centavos · blanks |
/// | `R` (results) | 1 `R` · 2–21 reference · 22–23 code: `00` cobrado, `01` fondos insuficientes, `02` cuenta cancelada, `03` CLABE inválida, others rejected |
#[derive(Debug, Clone, Copy, Default)]
pub struct FixedWidthV1;

const RECORD: usize = 100;

fn field(s: &str, len: usize) -> String {
    format!("{s:<len$}").chars().take(len).collect()
}

impl BankLayout for FixedWidthV1 {
    fn name(&self) -> &'static str {
        "SUPRA-DOM-1"
    }

    fn export(&self, header: &BatchHeader, lines: &[DebitLine]) -> Result<String> {
        let emisora = bank_text(&header.emisora, 10);
        if emisora.is_empty() || header.batch > 999_999 {
            return Err(Error::invalid(
                "emisora",
                "emisora o número de lote no válidos",
            ));
        }
        let mut out = String::new();
        let mut push = |rec: String| {
            out.push_str(&format!("{rec:<RECORD$}"));
            out.push_str("\r\n");
        };
        push(format!(
            "H{}{:06}{}",
            field(&emisora, 10),
            header.batch,
            header.charge_date.format("%Y%m%d")
        ));
        let mut total: i64 = 0;
        for (i, l) in lines.iter().enumerate() {
            if l.centavos <= 0 || l.centavos > 999_999_999_999_999 {
                return Err(Error::invalid(
                    "importe",
                    format!("importe no válido en {}", l.reference),
                ));
            }
            if l.reference.is_empty()
                || l.reference.len() > REFERENCE_LEN
                || !l.reference.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(Error::invalid(
                    "referencia",
                    format!("«{}» no es una referencia válida", l.reference),
                ));
            }
            total += l.centavos;
            push(format!(
                "D{:06}{}{}{}{:015}",
                i + 1,
                field(&l.reference, REFERENCE_LEN),
                l.clabe.as_str(),
                field(&bank_text(&l.holder, HOLDER_LEN), HOLDER_LEN),
                l.centavos
            ));
        }
        push(format!("T{:06}{:018}", lines.len(), total));
        Ok(out)
    }

    fn parse_results(&self, text: &str) -> Result<Vec<DebitResult>> {
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || !line.starts_with('R') {
                continue;
            }
            if line.len() < 23 || !line.is_char_boundary(21) || !line.is_char_boundary(23) {
                return Err(Error::invalid(
                    "resultados",
                    format!("renglón {} incompleto", n + 1),
                ));
            }
            let reference = line[1..21].trim().to_string();
            let code = &line[21..23];
            let outcome = match code {
                "00" => Outcome::Cobrado,
                "01" => Outcome::FondosInsuficientes,
                "02" => Outcome::CuentaCancelada,
                "03" => Outcome::ClabeInvalida,
                other => Outcome::Rechazado(other.to_string()),
            };
            out.push(DebitResult { reference, outcome });
        }
        Ok(out)
    }
}

/// How bounces are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub retry_after_days: i64,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retry_after_days: 5,
            max_attempts: 3,
        }
    }
}

/// What follows a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Paid: apply it to the contract.
    Apply,
    /// Try again in a later batch, on or after this day.
    RetryOn(NaiveDate),
    /// The mandate cannot work any more: deactivate it and tell the payer.
    Deactivate(&'static str),
    /// This debit failed for good; the mandate stays.
    Failed(String),
}

/// The bounce rules. `attempt` counts from 1.
pub fn next_step(outcome: &Outcome, attempt: u32, policy: RetryPolicy, today: NaiveDate) -> Next {
    match outcome {
        Outcome::Cobrado => Next::Apply,
        Outcome::FondosInsuficientes if attempt < policy.max_attempts => {
            Next::RetryOn(today + Duration::days(policy.retry_after_days))
        }
        Outcome::FondosInsuficientes => {
            Next::Failed(format!("fondos insuficientes en {attempt} intentos"))
        }
        Outcome::CuentaCancelada => Next::Deactivate("la cuenta fue cancelada"),
        Outcome::ClabeInvalida => Next::Deactivate("la CLABE no es válida en el banco"),
        Outcome::Rechazado(code) => Next::Failed(format!("rechazado por el banco (código {code})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn a_mandate_is_checked_and_its_holder_written_as_the_bank_wants() {
        let today = day("2026-11-24");
        let m = Mandate::new(
            "646180111805034238",
            "José Ñúñez-Peña, S.A.",
            150_000,
            day("2026-11-01"),
            today,
        );
        // The CLABE's check digit decides first.
        assert!(matches!(m, Err(Error::Invalid { field: "clabe", .. })));
        let m = Mandate::new(
            "646180111805034237",
            "José Ñúñez-Peña, S.A.",
            150_000,
            day("2026-11-01"),
            today,
        )
        .expect("mandate");
        assert_eq!(m.holder, "JOSE NUNEZ PENA S A");
        assert_eq!(m.debit_for(90_000), Some(90_000));
        assert_eq!(
            m.debit_for(200_000),
            Some(150_000),
            "capped at the mandate's maximum"
        );
        assert_eq!(m.debit_for(0), None);
        assert!(Mandate::new("646180111805034237", "  ", 1, today, today).is_err());
        assert!(Mandate::new("646180111805034237", "Ana", 0, today, today).is_err());
        assert!(Mandate::new("646180111805034237", "Ana", 1, day("2026-11-25"), today).is_err());
    }

    #[test]
    fn the_batch_file_has_fixed_columns_and_a_trailer_that_adds_up() {
        let clabe: Clabe = "646180111805034237".parse().expect("clabe");
        let lines = vec![
            DebitLine {
                reference: "D1A1".into(),
                clabe: clabe.clone(),
                holder: "María López".into(),
                centavos: 45_050,
            },
            DebitLine {
                reference: "D2A1".into(),
                clabe,
                holder: "Juan Pérez".into(),
                centavos: 12_345,
            },
        ];
        let header = BatchHeader {
            emisora: "cea-qro".into(),
            batch: 42,
            charge_date: day("2026-12-01"),
        };
        let file = FixedWidthV1.export(&header, &lines).expect("export");
        let recs: Vec<&str> = file.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(recs.len(), 4);
        assert!(
            recs.iter().all(|r| r.len() == 100),
            "fixed 100-character records"
        );
        assert_eq!(&recs[0][..25], "HCEA QRO   00004220261201");
        assert_eq!(&recs[1][..7], "D000001");
        assert_eq!(recs[1][7..27].trim_end(), "D1A1");
        assert_eq!(&recs[1][27..45], "646180111805034237");
        assert_eq!(recs[1][45..85].trim_end(), "MARIA LOPEZ");
        assert_eq!(&recs[1][85..100], "000000000045050");
        assert_eq!(&recs[3][..25], "T000002000000000000057395");
        // Bad references and amounts are refused, not written.
        let mut bad = lines.clone();
        bad[0].reference = "D-1".into();
        assert!(FixedWidthV1.export(&header, &bad).is_err());
        bad[0].reference = "D1".into();
        bad[0].centavos = 0;
        assert!(FixedWidthV1.export(&header, &bad).is_err());
    }

    #[test]
    fn results_are_read_and_bounces_follow_the_rules() {
        let text = "R D1A1               00\r\nRD2A1                01\r\nRD3A1                02\r\nRD4A1                03\r\nRD5A1                77\r\n\r\n";
        let r = FixedWidthV1.parse_results(text).expect("results");
        assert_eq!(r.len(), 5);
        assert_eq!(
            r[0],
            DebitResult {
                reference: "D1A1".into(),
                outcome: Outcome::Cobrado
            }
        );
        assert_eq!(r[1].outcome, Outcome::FondosInsuficientes);
        assert_eq!(r[4].outcome, Outcome::Rechazado("77".into()));
        assert!(FixedWidthV1.parse_results("RSHORT").is_err());

        let p = RetryPolicy::default();
        let today = day("2026-12-01");
        assert_eq!(next_step(&Outcome::Cobrado, 1, p, today), Next::Apply);
        assert_eq!(
            next_step(&Outcome::FondosInsuficientes, 1, p, today),
            Next::RetryOn(day("2026-12-06"))
        );
        assert_eq!(
            next_step(&Outcome::FondosInsuficientes, 2, p, today),
            Next::RetryOn(day("2026-12-06"))
        );
        assert!(matches!(
            next_step(&Outcome::FondosInsuficientes, 3, p, today),
            Next::Failed(_)
        ));
        assert!(matches!(
            next_step(&Outcome::CuentaCancelada, 1, p, today),
            Next::Deactivate(_)
        ));
        assert!(matches!(
            next_step(&Outcome::ClabeInvalida, 1, p, today),
            Next::Deactivate(_)
        ));
        assert!(matches!(
            next_step(&Outcome::Rechazado("77".into()), 1, p, today),
            Next::Failed(_)
        ));
    }
}
