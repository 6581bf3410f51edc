//! `cargo course checks N`: the checks step N is graded by, from the harness's
//! registry (the one place they are listed), in plain words.

use std::process::ExitCode;

use harness::registry::checks_of;

#[derive(clap::Args)]
pub struct Args {
    /// The step, 1 to 7
    #[arg(value_parser = clap::value_parser!(u8).range(1..=7))]
    step: u8,
}

/// `cargo course checks N`.
pub fn run(args: Args) -> ExitCode {
    print!("{}", listing(usize::from(args.step)));
    ExitCode::SUCCESS
}

/// One line per check: its test name, then what the kernel must show.
fn listing(number: usize) -> String {
    let checks = checks_of(number);
    let width = checks.iter().map(|check| check.test_name(number).len()).max().unwrap_or(0);
    let mut out = format!("step {number} is graded by {} checks:\n", checks.len());
    for check in checks {
        let from =
            if check.step == number { String::new() } else { format!(" (step {})", check.step) };
        out += &format!("  {:width$}  {}{from}\n", check.test_name(number), check.about);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_lists_its_own_checks_first() {
        let text = listing(2);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "step 2 is graded by 5 checks:");
        assert!(lines[1].trim_start().starts_with("feature_uts_namespace_is_new"));
        assert!(lines[3].ends_with("(step 1)"));
    }
}
