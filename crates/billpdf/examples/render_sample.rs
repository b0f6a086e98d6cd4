//! Renders the sample bill to a file and reports the median render time.
//!
//! `cargo run --release -p billpdf --example render_sample -- [out.pdf] [iterations]`

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "sample-bill.pdf".to_owned());
    let iterations: usize = args.next().map_or(Ok(200), |s| s.parse())?;

    let doc = billpdf::sample::sample_document();
    let bytes = billpdf::render(&doc)?; // warm-up: parses the fonts once
    std::fs::write(&out, &bytes)?;

    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations.max(1) {
        let start = Instant::now();
        let again = billpdf::render(&doc)?;
        times.push(start.elapsed());
        assert_eq!(again, bytes, "render is not deterministic");
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "{out}: {} bytes; median render {:.3} ms over {} runs (min {:.3} ms, max {:.3} ms)",
        bytes.len(),
        median.as_secs_f64() * 1e3,
        times.len(),
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
    );
    Ok(())
}
