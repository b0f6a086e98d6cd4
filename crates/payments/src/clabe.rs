//! The CLABE referenciada of each contract: the utility's 10-digit STP prefix (bank 646,
//! plaza, and the digits STP assigns to the utility) + the contract id in 7 digits + the
//! check digit. The mapping is a bijection, so an inbound CLABE names its contract
//! without a lookup table, and a CLABE that fails the check digit or the prefix is
//! refused before anything else.

use domain::Clabe;

use crate::{Error, Result};

/// Contract ids must fit in the 7 digits after the prefix.
pub const MAX_CONTRACT_ID: i64 = 9_999_999;

fn check_prefix(prefix: &str) -> Result<()> {
    if prefix.len() != 10 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            "prefijo_stp",
            format!("«{prefix}» no son los 10 dígitos del prefijo STP del organismo"),
        ));
    }
    Ok(())
}

/// The contract's CLABE under `prefix` (10 digits).
pub fn for_contract(prefix: &str, contract_id: i64) -> Result<Clabe> {
    check_prefix(prefix)?;
    if !(1..=MAX_CONTRACT_ID).contains(&contract_id) {
        return Err(Error::invalid(
            "contrato",
            format!("el contrato {contract_id} no cabe en una CLABE referenciada"),
        ));
    }
    Clabe::from_17_digits(&format!("{prefix}{contract_id:07}"))
        .map_err(|e| Error::invalid("clabe", e.message))
}

/// The contract an inbound CLABE belongs to: `None` when it is not a valid CLABE or not
/// one of ours (another prefix).
pub fn contract_of(prefix: &str, clabe: &str) -> Option<i64> {
    check_prefix(prefix).ok()?;
    let c: Clabe = clabe.parse().ok()?;
    let digits = c.as_str();
    if !digits.starts_with(prefix) {
        return None;
    }
    digits[10..17].parse::<i64>().ok().filter(|id| *id >= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "6461801234";

    #[test]
    fn published_valid_clabes_pass_the_check_digit() {
        // From the reference's worked example and samples.
        for c in [
            "646180111805034237",
            "646180157099999993",
            "646180110400000007",
            "734180008033435128",
        ] {
            assert!(c.parse::<Clabe>().is_ok(), "{c}");
        }
        assert!("646180111805034238".parse::<Clabe>().is_err());
    }

    #[test]
    fn every_contract_round_trips_and_edits_are_refused() {
        for id in [1, 42, 430_000, MAX_CONTRACT_ID] {
            let c = for_contract(PREFIX, id).expect("clabe");
            assert_eq!(c.as_str().len(), 18);
            assert!(c.as_str().starts_with(PREFIX));
            assert_eq!(contract_of(PREFIX, c.as_str()), Some(id));
            // One digit changed: the check digit catches it.
            let mut bad = c.as_str().as_bytes().to_vec();
            bad[12] = if bad[12] == b'9' { b'0' } else { bad[12] + 1 };
            let bad = String::from_utf8(bad).expect("ascii");
            assert_eq!(contract_of(PREFIX, &bad), None, "{bad}");
        }
        // A valid CLABE of someone else's prefix is not ours.
        assert_eq!(contract_of(PREFIX, "646180111805034237"), None);
        assert!(for_contract(PREFIX, 0).is_err());
        assert!(for_contract(PREFIX, MAX_CONTRACT_ID + 1).is_err());
        assert!(for_contract("64618", 1).is_err());
    }
}
