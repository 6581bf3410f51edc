//! What the class proof requires of the two gradings: the same CSV twice, each
//! student's verdicts, carol bounded by the limit, an aligned table that says what
//! was cleaned up after dave, and nothing left on the host.

use super::*;

/// What `course class` printed (its stdout), or why it did not run.
pub(super) fn table_text(round: &Round) -> String {
    match &round.output {
        Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
        Err(why) => why.clone(),
    }
}

/// Both rounds ran (exit status 0 or 1: some grades are not pass) and wrote the
/// very same CSV.
pub(super) fn same_twice(rounds: &[Round]) -> Result<String, String> {
    for (n, round) in rounds.iter().enumerate() {
        let out = round.output.as_ref().map_err(Clone::clone)?;
        if !matches!(out.status.code(), Some(0 | 1)) {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last: Vec<&str> = stderr.lines().rev().take(3).collect();
            return Err(format!(
                "round {}: course class: {} ({})",
                n + 1,
                out.status,
                last.join(" | ")
            ));
        }
    }
    let first = rounds[0].csv.as_ref().map_err(Clone::clone)?;
    let second = rounds[1].csv.as_ref().map_err(Clone::clone)?;
    let took = format!("{:.0}s and {:.0}s", rounds[0].seconds, rounds[1].seconds);
    if first == second {
        return Ok(format!("{} rows, the same; the rounds took {took}", first.len()));
    }
    let differ: Vec<String> = first
        .iter()
        .zip(second)
        .filter(|(one, two)| one != two)
        .map(|(one, two)| format!("{} / {}", one.join(","), two.join(",")))
        .collect();
    let counts = format!("{} and {} rows", first.len(), second.len());
    Err(format!("different grades ({counts}): {}", differ.join("; ")))
}

/// The CSV's verdict for the student's column is `verdict`.
pub(super) fn said(
    csv: &[Vec<String>],
    student: &str,
    column: &str,
    verdict: &str,
) -> Result<String, String> {
    let row = csv.iter().find(|row| row.len() > 2 && row[0] == student && row[1] == column);
    match row.map(|row| row[2].as_str()) {
        Some(found) if found == verdict => Ok(found.to_string()),
        Some(found) => {
            let detail = row.and_then(|row| row.get(5)).filter(|detail| !detail.is_empty());
            let detail = detail.map(|detail| format!(" ({detail})")).unwrap_or_default();
            Err(format!("the CSV says `{found}`{detail}"))
        }
        None => Err("the CSV has no such row".into()),
    }
}

/// In both rounds, carol's `sleep 1000` lived at most the limit and a little more.
pub(super) fn bounded(rounds: &[Round]) -> Result<String, String> {
    let limit = Duration::from_secs(LIMIT) + SLACK;
    let mut lived = Vec::new();
    for (n, round) in rounds.iter().enumerate() {
        let Some(hang) = round.hang else {
            return Err(format!("round {}: no `sleep 1000` was seen running", n + 1));
        };
        if hang > limit {
            return Err(format!("round {}: it lived {:.1}s", n + 1, hang.as_secs_f64()));
        }
        lived.push(format!("{:.1}s", hang.as_secs_f64()));
    }
    Ok(format!("it lived {} (at most {}s)", lived.join(" and "), limit.as_secs()))
}

/// The table's rows: the lines up to its first empty one, header first.
pub(super) fn table_rows(table: &str) -> Vec<Vec<char>> {
    table.lines().take_while(|line| !line.is_empty()).map(|line| line.chars().collect()).collect()
}

/// Where the header's columns start: after a space, not a space.
pub(super) fn column_starts(header: &[char]) -> Vec<usize> {
    (1..header.len()).filter(|&at| header[at - 1] == ' ' && header[at] != ' ').collect()
}

/// Dave's cell in the cleanup column (the last) says `N process(es) killed`, N ≥ 1.
pub(super) fn dave_cleaned_up(table: &str) -> Result<String, String> {
    let rows = table_rows(table);
    let header = rows.first().ok_or("no table")?;
    let text: String = header.iter().collect();
    if !text.trim_end().ends_with(" cleanup") {
        return Err(format!("the header's last column is not `cleanup`: {text}"));
    }
    let start = column_starts(header).last().copied().ok_or("a header of one column")?;
    let dave = rows.iter().find(|row| row.starts_with(&['d', 'a', 'v', 'e', ' ']));
    let dave = dave.ok_or("no row for dave")?;
    let cell: String = dave.iter().skip(start).collect();
    let count = cell.strip_suffix(" killed").and_then(|words| {
        words.strip_suffix(" processes").or_else(|| words.strip_suffix(" process"))
    });
    match count.and_then(|count| count.parse::<usize>().ok()) {
        Some(count) if count >= 1 => Ok(cell),
        _ => Err(format!("dave's cleanup cell is `{cell}`")),
    }
}

/// In every row, each column the header starts has a space before it and its cell's
/// first character at it.
pub(super) fn aligned(table: &str) -> Result<String, String> {
    let rows = table_rows(table);
    let header = rows.first().ok_or("no table")?;
    let starts = column_starts(header);
    for row in &rows[1..] {
        for &at in starts.iter().filter(|&&at| at < row.len()) {
            if row[at - 1] != ' ' || row[at] == ' ' {
                let row: String = row.iter().collect();
                return Err(format!("column {at} of `{row}` does not start a cell"));
            }
        }
    }
    Ok(format!("{} columns, {} students", starts.len() + 1, rows.len() - 1))
}

/// No student's process outlived grading (those found are killed, by PID, after).
pub(super) fn no_process_left() -> Result<String, String> {
    let left = processes(&LEFT);
    for (pid, _) in &left {
        let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
    }
    match left.is_empty() {
        true => Ok("none".into()),
        false => {
            let left: Vec<String> =
                left.iter().map(|(pid, line)| format!("{pid} {line}")).collect();
            Err(format!("left (now killed): {}", left.join(", ")))
        }
    }
}

/// No `course-class-*` in /sys/fs/cgroup, nor one level below (v1's hierarchies).
pub(super) fn no_cgroup_left() -> Result<String, String> {
    let top = Path::new("/sys/fs/cgroup");
    let entries = |dir: &Path| -> Vec<PathBuf> {
        let listed = fs::read_dir(dir).into_iter().flatten().flatten();
        listed.map(|entry| entry.path()).collect()
    };
    let mut found = Vec::new();
    for path in entries(top) {
        if path.is_dir() {
            found.extend(entries(&path));
        }
        found.push(path);
    }
    let name = |path: &PathBuf| path.file_name().and_then(|name| name.to_str()).map(String::from);
    let left: Vec<String> = found
        .iter()
        .filter(|path| name(path).is_some_and(|name| name.starts_with("course-class-")))
        .map(|path| path.display().to_string())
        .collect();
    match left.is_empty() {
        true => Ok("none".into()),
        false => Err(format!("left: {}", left.join(", "))),
    }
}

/// None of the host's files dave and mallory write exists (those found are removed).
pub(super) fn no_host_file() -> Result<String, String> {
    let found: Vec<String> = host_files()
        .into_iter()
        .filter(|file| file.exists())
        .map(|file| {
            let _ = fs::remove_file(&file);
            file.display().to_string()
        })
        .collect();
    match found.is_empty() {
        true => Ok("none".into()),
        false => Err(format!("written on the host (now removed): {}", found.join(", "))),
    }
}

/// /proc/self/mountinfo does not name the class folder.
pub(super) fn no_mount_left(dir: &Path) -> Result<String, String> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")
        .map_err(|err| format!("cannot read /proc/self/mountinfo: {err}"))?;
    let dir = dir.display().to_string();
    let left: Vec<&str> = mountinfo.lines().filter(|line| line.contains(&dir)).collect();
    match left.is_empty() {
        true => Ok("none".into()),
        false => Err(format!("left: {}", left.join(" | "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "\
student  step01     step02   step02-hostname_flag  cleanup
alice    pass       pass     -                     nothing
carol    timed out  missing  -                     1 process killed
dave     pass       missing  -                     2 processes killed

First failed check of each:
  carol step01: timed out
";

    #[test]
    fn an_aligned_table_is_aligned_and_says_what_dave_left() {
        assert_eq!(aligned(TABLE), Ok("5 columns, 3 students".into()));
        assert_eq!(dave_cleaned_up(TABLE), Ok("2 processes killed".into()));
    }

    #[test]
    fn a_cell_that_spills_into_the_next_column_is_not_aligned() {
        let table = TABLE.replace("carol    timed out  missing", "carol    timed out missing ");
        assert!(aligned(&table).is_err());
        let table = TABLE.replace("2 processes killed", "nothing");
        assert_eq!(dave_cleaned_up(&table), Err("dave's cleanup cell is `nothing`".into()));
    }

    #[test]
    fn a_verdict_is_read_from_its_row() {
        let csv = vec![
            vec!["student".into(), "step".into(), "verdict".into()],
            vec!["carol".into(), "step01".into(), "timed out".into()],
        ];
        assert_eq!(said(&csv, "carol", "step01", "timed out"), Ok("timed out".into()));
        assert!(said(&csv, "carol", "step01", "pass").is_err());
        assert!(said(&csv, "carol", "step02", "missing").is_err());
    }
}
