//! `cargo run -p seed --release --example gen -- 400000 [seed]`
//! Prints entity counts and the generation time.

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let contracts: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let t = Instant::now();
    let u = seed::generate(&seed::SeedParams::new(contracts, seed));
    let elapsed = t.elapsed();
    println!("contracts        {}", u.contracts.len());
    println!("persons          {}", u.persons.len());
    println!("addresses        {}", u.addresses.len());
    println!("meters           {}", u.meters.len());
    println!("readings         {}", u.readings.len());
    println!("opening_balances {}", u.opening_balances.len());
    println!("staff            {}", u.staff.len());
    println!("elapsed          {:.3} s", elapsed.as_secs_f64());
    for (number, phone) in seed::demo_logins(&u) {
        println!("login            {number}  {phone}");
    }
}
