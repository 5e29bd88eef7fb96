//! How many bcrypt verifications this machine does per second at a cost, on every core: the
//! ceiling of the password grant and of sign-in, which `bench/run` compares them with.
//!
//! `cargo run --release --example bcrypt_rate -- [COST, default 12] [SECONDS, default 5]`

use std::time::{Duration, Instant};

fn main() -> Result<(), bcrypt::BcryptError> {
    let mut args = std::env::args().skip(1);
    let cost = args.next().and_then(|a| a.parse().ok()).unwrap_or(12);
    let seconds = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let hash = bcrypt::hash("bench password", cost)?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let verified: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut count = 0;
                    while Instant::now() < deadline {
                        if bcrypt::verify("bench password", &hash).unwrap_or(false) {
                            count += 1;
                        }
                    }
                    count
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    });
    let rate = verified as f64 / started.elapsed().as_secs_f64();
    println!("bcrypt cost {cost}: {rate:.2} verifications/s on {threads} threads");
    Ok(())
}
