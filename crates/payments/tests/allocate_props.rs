//! Allocation invariants on random bills and payments: nothing is lost or created, no
//! bill gets more than it owes, and older bills are paid off before newer ones get
//! anything.

use chrono::NaiveDate;
use payments::allocate::{OpenBill, allocate};
use proptest::prelude::*;

fn bills() -> impl Strategy<Value = Vec<OpenBill>> {
    prop::collection::vec((0u32..365, -5_000i64..500_000), 0..12).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (day, owed))| OpenBill {
                invoice_id: i as i64 + 1,
                due_date: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")
                    + chrono::Duration::days(i64::from(day)),
                owed_centavos: owed,
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn money_is_conserved_and_oldest_bills_go_first(bills in bills(), amount in 1i64..5_000_000) {
        let a = allocate(&bills, amount);
        prop_assert_eq!(a.applied_total() + a.credit_centavos, amount);
        prop_assert!(a.credit_centavos >= 0);
        let owed = |id: i64| bills.iter().find(|b| b.invoice_id == id).map(|b| b.owed_centavos);
        for (id, c) in &a.applied {
            prop_assert!(*c > 0);
            prop_assert!(Some(*c) <= owed(*id));
        }
        // Credit only when every bill is paid off.
        let total_owed: i64 = bills.iter().map(|b| b.owed_centavos.max(0)).sum();
        prop_assert_eq!(a.credit_centavos, (amount - total_owed).max(0));
        // Every bill except possibly the last applied one is paid in full.
        if a.applied.len() > 1 {
            for (id, c) in &a.applied[..a.applied.len() - 1] {
                prop_assert_eq!(Some(*c), owed(*id));
            }
        }
        // No open bill older than an applied one is left without payment.
        if let Some((last, _)) = a.applied.last() {
            let last = bills.iter().find(|b| b.invoice_id == *last).expect("bill");
            for b in bills.iter().filter(|b| b.owed_centavos > 0) {
                if (b.due_date, b.invoice_id) < (last.due_date, last.invoice_id) {
                    prop_assert!(a.applied.iter().any(|(id, _)| *id == b.invoice_id));
                }
            }
        }
    }
}
