//! How long the harness waits, and how a slow machine gets more time.
//!
//! Every wait of the harness is a base time multiplied by the whole number in
//! `CONTAINER_TIMEOUT_SCALE` (1 when unset): 30 s for a container to end, 5 s for
//! a container to die with its runtime or for a signal to reach its command, and
//! the others below. `CONTAINER_TIMEOUT_SCALE=3 cargo test …` gives a slow machine
//! (software emulation, a loaded CI runner) three times as long for each. The
//! scripts in `.ci/` scale their own time limits by it too.

use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// The environment variable that multiplies every time limit of the harness.
pub const SCALE_VAR: &str = "CONTAINER_TIMEOUT_SCALE";

/// How long any one container may take, from its start to its end (30 s, scaled).
pub fn container_timeout() -> Duration {
    scaled(Duration::from_secs(30))
}

/// `base`, multiplied by [`scale`].
pub fn scaled(base: Duration) -> Duration {
    base * scale()
}

/// The whole number in `CONTAINER_TIMEOUT_SCALE`, 1 when it is unset or empty. A
/// value that is not a whole number of at least 1 fails the test, saying so.
pub fn scale() -> u32 {
    static SCALE: OnceLock<u32> = OnceLock::new();
    *SCALE.get_or_init(|| {
        let value = std::env::var(SCALE_VAR).ok();
        parse_scale(value.as_deref()).unwrap_or_else(|err| panic!("{err}"))
    })
}

/// The scale that `value` (of `CONTAINER_TIMEOUT_SCALE`) asks for.
pub fn parse_scale(value: Option<&str>) -> Result<u32, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(1),
        Some(text) => match text.parse::<u32>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!(
                "{SCALE_VAR}={text}: expected a whole number of at least 1, the factor by \
                 which every time limit of the tests grows (e.g. 3 on a slow machine)"
            )),
        },
    }
}

/// How long [`poll_until`] sleeps between two looks.
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Look at `condition` every few milliseconds until it holds, for at most `limit`:
/// true as soon as it holds, false if it still does not once `limit` has passed. It
/// is looked at once at least, and a last time when `limit` is up. A wait that needs
/// a value out of the last look keeps it from inside the closure.
pub fn poll_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if condition() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        thread::sleep(POLL_INTERVAL.min(deadline - now));
    }
}

/// Said with a failure that may be the machine's slowness rather than the program's.
pub(crate) fn slow_machine_note(limit: Duration) -> String {
    format!("{limit:?} ({SCALE_VAR}={} multiplies it on a slow machine)", scale())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_is_one_unless_set_to_a_whole_number() {
        assert_eq!(parse_scale(None), Ok(1));
        assert_eq!(parse_scale(Some("")), Ok(1));
        assert_eq!(parse_scale(Some("3")), Ok(3));
        assert_eq!(parse_scale(Some(" 2 ")), Ok(2));
        for wrong in ["0", "-1", "1.5", "slow"] {
            let err = parse_scale(Some(wrong)).expect_err(wrong);
            assert!(err.contains(SCALE_VAR) && err.contains(wrong), "{err}");
        }
    }

    #[test]
    fn poll_until_says_whether_the_condition_came_to_hold_in_time() {
        assert!(poll_until(Duration::ZERO, || true));
        let mut looks = 0;
        assert!(!poll_until(Duration::ZERO, || {
            looks += 1;
            false
        }));
        assert_eq!(looks, 1, "a condition is looked at once at least");
        let mut looks = 0;
        assert!(poll_until(Duration::from_secs(5), || {
            looks += 1;
            looks == 3
        }));
        assert_eq!(looks, 3);
        let started = Instant::now();
        assert!(!poll_until(Duration::from_millis(30), || false));
        assert!(started.elapsed() >= Duration::from_millis(30));
    }
}
