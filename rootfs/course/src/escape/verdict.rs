//! What one escape found, as a value: the kernel refused it (`Held`), allowed it
//! (`Escaped`), or it could not be tried here (`Skipped`). Inside the container a
//! script or the probe prints it as one line (`escaped WHAT`); outside, that line is
//! read back, and the report prints one line per escape and a closing count.

use std::fmt;

/// The verdict on one escape, with what the kernel allowed or refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The container held: what was refused, and by what.
    Held(String),
    /// The container let it out: what the kernel allowed.
    Escaped(String),
    /// Not tried here: why (no such file in this kernel, no probe, …).
    Skipped(String),
}

impl Verdict {
    /// The word that starts its line: `held`, `escaped` or `skipped`.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Held(_) => "held",
            Verdict::Escaped(_) => "escaped",
            Verdict::Skipped(_) => "skipped",
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Verdict::Held(text) | Verdict::Escaped(text) | Verdict::Skipped(text) => text,
        }
    }

    /// The line of the report for the escape called `name`.
    pub fn report_line(&self, name: &str) -> String {
        format!("{:<8} {name}: {}", self.word(), self.text())
    }

    /// Read back the verdict a script or the probe printed: the last line of
    /// `output` that starts with `held `, `escaped ` or `skipped `.
    pub fn printed_in(output: &str) -> Option<Verdict> {
        output.lines().rev().find_map(Verdict::from_line)
    }

    fn from_line(line: &str) -> Option<Verdict> {
        let (word, text) = line.trim_end().split_once(' ')?;
        let text = text.trim().to_string();
        match word {
            "held" => Some(Verdict::Held(text)),
            "escaped" => Some(Verdict::Escaped(text)),
            "skipped" => Some(Verdict::Skipped(text)),
            _ => None,
        }
    }
}

/// The line a script or the probe prints inside the container, which
/// [`Verdict::printed_in`] reads back.
impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} {}", self.word(), self.text())
    }
}

/// How many escapes held, escaped and were skipped.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub held: usize,
    pub escaped: usize,
    pub skipped: usize,
}

impl Tally {
    pub fn of<'a>(verdicts: impl IntoIterator<Item = &'a Verdict>) -> Tally {
        let mut tally = Tally::default();
        for verdict in verdicts {
            match verdict {
                Verdict::Held(_) => tally.held += 1,
                Verdict::Escaped(_) => tally.escaped += 1,
                Verdict::Skipped(_) => tally.skipped += 1,
            }
        }
        tally
    }

    /// The closing line: `N held, M escaped` (and `, K skipped` when some were).
    pub fn closing_line(&self) -> String {
        let line = format!("{} held, {} escaped", self.held, self.escaped);
        match self.skipped {
            0 => line,
            k => format!("{line}, {k} skipped"),
        }
    }

    /// 0 when every escape that was tried held, 1 when any escaped.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.escaped > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_verdict_line_counts() {
        let output = "mount: permission denied\nheld first try\nnoise\nescaped wrote 20 back\n";
        assert_eq!(Verdict::printed_in(output), Some(Verdict::Escaped("wrote 20 back".into())));
    }

    #[test]
    fn output_without_a_verdict_has_none() {
        assert_eq!(Verdict::printed_in("sh: can't open\nheldfast\n"), None);
        assert_eq!(Verdict::printed_in(""), None);
    }

    #[test]
    fn a_verdict_printed_inside_reads_back_the_same() {
        for verdict in [
            Verdict::Held("EPERM".into()),
            Verdict::Escaped("wrote \"core\" back".into()),
            Verdict::Skipped("no /proc/kcore".into()),
        ] {
            assert_eq!(Verdict::printed_in(&format!("{verdict}\n")), Some(verdict));
        }
    }

    #[test]
    fn report_lines_align_their_names() {
        let held = Verdict::Held("refused".into()).report_line("sysfs");
        let escaped = Verdict::Escaped("wrote".into()).report_line("sysfs");
        assert_eq!(held, "held     sysfs: refused");
        assert_eq!(escaped, "escaped  sysfs: wrote");
    }

    #[test]
    fn the_tally_counts_and_decides_the_exit_code() {
        let all_held = [Verdict::Held(String::new()), Verdict::Skipped(String::new())];
        let tally = Tally::of(&all_held);
        assert_eq!(tally.closing_line(), "1 held, 0 escaped, 1 skipped");
        assert_eq!(tally.exit_code(), 0);
        let one_out = [Verdict::Held(String::new()), Verdict::Escaped(String::new())];
        let tally = Tally::of(&one_out);
        assert_eq!(tally.closing_line(), "1 held, 1 escaped");
        assert_eq!(tally.exit_code(), 1);
    }
}
