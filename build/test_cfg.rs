//! Build script shared by the crates that hold integration tests (each
//! names it with `build = "../../build/test_cfg.rs"`).
//!
//! It turns the test environment into cfg flags, so a test that needs a
//! PostgreSQL server or a browser is compiled as `#[ignore = "why"]` on a
//! machine without one — and `cargo test --workspace` lists it as ignored,
//! with the reason, instead of passing it silently. Setting the variable
//! rebuilds the test crates with the tests enabled.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pushpull_pg)");
    println!("cargo::rustc-check-cfg=cfg(pushpull_browser)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rerun-if-env-changed=CHROMEDRIVER");
    println!("cargo::rerun-if-changed=/usr/bin/chromedriver");

    if std::env::var_os("TEST_DATABASE_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=pushpull_pg");
    }
    let driver = std::env::var_os("CHROMEDRIVER")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/usr/bin/chromedriver".into());
    if driver.exists() {
        println!("cargo::rustc-cfg=pushpull_browser");
    }
}
