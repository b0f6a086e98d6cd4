//! Applying a payment to a contract's open bills: oldest due date first (then lowest
//! id), each bill up to what it still owes; the remainder is a credit that the next bill
//! consumes. A bill left with something owed is "parcial".

/// An open bill: what is still owed on it, in centavos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenBill {
    pub invoice_id: i64,
    /// Sorts the bills: older first.
    pub due_date: chrono::NaiveDate,
    pub owed_centavos: i64,
}

/// Where a payment went.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Allocation {
    /// (invoice id, centavos applied), in the order applied.
    pub applied: Vec<(i64, i64)>,
    /// What no open bill took: the contract's credit.
    pub credit_centavos: i64,
}

impl Allocation {
    pub fn applied_total(&self) -> i64 {
        self.applied.iter().map(|(_, c)| c).sum()
    }
}

/// Allocate `amount_centavos` (> 0) to `bills`. Bills owing nothing (or a negative
/// amount) are skipped.
pub fn allocate(bills: &[OpenBill], amount_centavos: i64) -> Allocation {
    let mut open: Vec<&OpenBill> = bills.iter().filter(|b| b.owed_centavos > 0).collect();
    open.sort_by_key(|b| (b.due_date, b.invoice_id));
    let mut left = amount_centavos.max(0);
    let mut out = Allocation::default();
    for b in open {
        if left == 0 {
            break;
        }
        let take = left.min(b.owed_centavos);
        out.applied.push((b.invoice_id, take));
        left -= take;
    }
    out.credit_centavos = left;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn bill(id: i64, month: u32, owed: i64) -> OpenBill {
        OpenBill {
            invoice_id: id,
            due_date: NaiveDate::from_ymd_opt(2026, month, 15).expect("date"),
            owed_centavos: owed,
        }
    }

    #[test]
    fn oldest_first_partial_last_and_the_rest_is_credit() {
        let bills = [bill(3, 10, 30_000), bill(1, 8, 10_000), bill(2, 9, 20_000)];
        let a = allocate(&bills, 25_000);
        assert_eq!(a.applied, vec![(1, 10_000), (2, 15_000)]);
        assert_eq!(a.credit_centavos, 0);
        let a = allocate(&bills, 70_000);
        assert_eq!(a.applied, vec![(1, 10_000), (2, 20_000), (3, 30_000)]);
        assert_eq!(a.credit_centavos, 10_000);
        let a = allocate(&[], 5_000);
        assert!(a.applied.is_empty());
        assert_eq!(a.credit_centavos, 5_000);
    }

    #[test]
    fn bills_that_owe_nothing_take_nothing() {
        let bills = [bill(1, 8, 0), bill(2, 9, -500), bill(3, 10, 700)];
        let a = allocate(&bills, 1_000);
        assert_eq!(a.applied, vec![(3, 700)]);
        assert_eq!(a.credit_centavos, 300);
    }
}
