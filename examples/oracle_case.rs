//! Shows one oracle case and both results: `cargo run --release --example oracle_case -- SEED INDEX`.
use rx86::oracle::{compare, describe, gen, Executor, NativeExecutor, Rx86Executor, CODE_BASE};

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| {
            a.strip_prefix("0x")
                .map(|h| u64::from_str_radix(h, 16).expect("hex"))
                .unwrap_or_else(|| a.parse().expect("number"))
        })
        .collect();
    let (case, _) = gen::generate_at(args[0], args[1], CODE_BASE);
    println!("{}", describe(&case));
    let native = NativeExecutor::new().run_batch(std::slice::from_ref(&case));
    let emu = Rx86Executor::new().run_batch(std::slice::from_ref(&case));
    match (native, emu) {
        (Ok(n), Ok(e)) => match compare(&case, &n[0], &e[0]) {
            Some(d) => println!("MISMATCH\n{d}"),
            None => println!("match"),
        },
        (n, e) => println!("native: {:?}\nrx86: {:?}", n.err(), e.err()),
    }
}
