//! Settings come from one place: each service's clap arguments.
//!
//! Every setting of both services is a flag with an environment variable
//! and a default (`store::config::StoreArgs`,
//! `inventory::config::InventoryArgs`), layered the zero2prod way: flags win
//! over variables, variables over defaults. Those clap defaults are the
//! *only* copy of each default value: a service's `Config::default()` reads
//! them through [`declared_defaults`] — an empty command line, parsed with
//! every environment binding switched off, so a test's defaults are the
//! shipped ones and never depend on the machine it runs on.

use clap::{Args, FromArgMatches};

/// Every flag of `A` at its declared default (the environment ignored).
pub fn declared_defaults<A: Args + FromArgMatches>() -> A {
    let command =
        A::augment_args(clap::Command::new("defaults")).mut_args(|arg| arg.env(None::<&str>));
    let matches = command
        .try_get_matches_from(["defaults"])
        .expect("every flag has a default");
    A::from_arg_matches(&matches).expect("the declared defaults parse")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, clap::Args)]
    struct Example {
        #[arg(long, env = "PLATFORM_CONFIG_TEST_PORT", default_value_t = 8080)]
        port: u16,
    }

    #[test]
    fn the_environment_does_not_change_the_declared_defaults() {
        // SAFETY: the variable is this test's own; nothing else reads it.
        unsafe { std::env::set_var("PLATFORM_CONFIG_TEST_PORT", "9999") };
        assert_eq!(declared_defaults::<Example>().port, 8080);
    }
}
