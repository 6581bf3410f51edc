//! Every command the book tells a learner to type is run, and what it prints must
//! be what the book shows: under `sh` = dash, under `sh` = bash, and under `sh` =
//! busybox's ash (the container's shell).
//!
//! # What is run
//!
//! Every ```` ```console ```` block of `book/src/**/*.md`. In a block, a line that
//! starts with a prompt is a command; the lines after it are what it prints:
//!
//! - `$ ` or `# ` on the block's first command: the learner's own shell (`#` when
//!   it is a root shell). Every later line with that same prompt is another command
//!   typed there, in the same shell (so `$?` and variables carry over).
//! - any other prompt (`# ` after `$ `, or `/ # `, busybox's): typed into the
//!   program the command before started (a shell in a new namespace, a container's
//!   shell). These lines are the program's stdin, as if typed; the outputs of the
//!   command and of what was typed into it are checked as one.
//! - a command continues on the next lines while a quote is open or it ends in `\`.
//!
//! The expected output, after the filters below, must match line by line, except:
//!
//! - a line that is only `…` stands for any number of lines (none too);
//! - a `…` inside a line stands for any text within that line.
//!
//! # Marks: an HTML comment right before the block (the reader never sees it)
//!
//! - `<!-- check: not run: REASON -->`: the block is not run. The checker counts
//!   and lists every such block with its reason; nothing is left out silently.
//!   Reasons name what it would need: a terminal, a second terminal while another
//!   command runs, pure cgroup v2 (one of the QEMU boots of `.ci/vm/`), the
//!   network, changes to the learner's copy, a machine like the one shown…
//! - `<!-- check: varies: 4809 114 -->`: these numbers of the block's output
//!   stand for any number (a PID, a count of the host's processes).
//! - `<!-- check: under bash: LINE -->`: under that shell (`bash`, `busybox`) the
//!   block's one command prints LINE instead (the page says each shell's wording).
//! - `<!-- check: ls columns -->`: the block's lines of names in columns (`ls` on
//!   a terminal) are those names one per line (`ls` into a pipe).
//! - `<!-- check: typed into: COMMAND -->`: the block's lines are typed into
//!   COMMAND, which a block before started (the block shows the inside only).
//!
//! Marks can be stacked, one comment each, right before the block.
//!
//! Blocks that only include a snapshot (`{{#include …snap…}}`, checked by the
//! step's `tests/book.rs`) and blocks with no prompt (an output quoted alone) are
//! counted too.
//!
//! # How it runs
//!
//! As root, in the repository, one block at a time, three times: each in a new
//! mount namespace, with a time limit. Under dash, the machine as it is (Debian's
//! `/bin/sh` is dash); under bash, bash mounted over `/usr/bin/dash`, so `/bin/sh`,
//! `sh` and the block's own shell are bash; under busybox, busybox's `sh` first in
//! PATH, so every `sh` a command names is busybox's (the block's own shell stays
//! dash: busybox's would run its own applets for the host's commands). `sudo` is a no-op (we are root) and `cargo run -q -p P --` and
//! `cargo course` run the built binaries (`target/debug/P`, built first). Output is
//! stdout and stderr together, as a terminal shows them.
//!
//! # Filters (both sides)
//!
//! Spaces and tabs collapse to one space (columns widen with the numbers); a
//! namespace's or a pipe's inode `uts:[4026532178]` → `uts:[INODE]`; times `12:34`
//! → `[TIME]`; the machine's hostname, and the book's `mylaptop`, → `[HOST]`. A shell's report of a command
//! killed by a signal (`Killed`, `Terminated`) goes: an interactive shell prints
//! it, a script's bash words it `sh: line 3: 28723 Killed  sh -c …` or says nothing
//! (`echo $?` after it is checked). Lines left empty go.
//!
//! Run: `cargo test -p book --test commands` (as root).

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

#[path = "pages.rs"]
mod pages;
use pages::{pages, src};
use regex::Regex;

/// The shells a block runs under, as `sh`: name, and the program mounted over
/// `/usr/bin/dash` (so `/bin/sh`, `sh` and the block's own shell are it), or put
/// first in PATH as `sh` (busybox: the block's shell and `/bin/sh` stay dash, since
/// busybox's shell would run its own applets for the host's commands).
const SHELLS: [(&str, Over); 3] =
    [("dash", Over::Nothing), ("bash", Over::BinSh("/usr/bin/bash")), ("busybox", Over::PathSh)];

#[derive(Clone, Copy)]
enum Over {
    Nothing,
    BinSh(&'static str),
    PathSh,
}

/// How long one block may take under one shell.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// The line the block's shell prints between two commands, to split the output.
const NEXT: &str = "@@book-check: next command@@";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// One command and what the book shows it prints.
#[derive(Debug, Clone, PartialEq)]
struct Cmd {
    /// Line in the page (1-based).
    line: usize,
    text: String,
    /// Typed into what the command started (lines with another prompt).
    typed: Vec<String>,
    /// What the book shows it (and what was typed into it) prints.
    output: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Run,
    TypedInto(String),
    NotRun(String),
    Snapshot,
    OutputOnly,
}

#[derive(Debug, Clone)]
struct Block {
    page: PathBuf,
    /// The line of the opening fence.
    line: usize,
    kind: Kind,
    opts: Opts,
    commands: Vec<Cmd>,
}

/// How a run block's output is compared (its marks).
#[derive(Debug, Clone, Default, PartialEq)]
struct Opts {
    /// `varies: …`: these numbers stand for any number.
    varies: Vec<String>,
    /// `under SHELL: LINE`: under that shell the (one) command prints LINE instead.
    under: Vec<(String, String)>,
    /// `ls columns`: the book's lines of names in columns are one name per line.
    columns: bool,
}

const PROMPTS: [&str; 3] = ["/ # ", "$ ", "# "];

fn prompt_of(line: &str) -> Option<&'static str> {
    let line = line.trim_start();
    PROMPTS.into_iter().find(|p| line.starts_with(p) || line == p.trim_end())
}

/// Whether a command, as written so far, goes on on the next line: a quote still
/// open, or a `\` at its end.
fn continues(command: &str) -> bool {
    let (mut single, mut double, mut escaped) = (false, false, false);
    for c in command.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if !single => escaped = true,
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            _ => {}
        }
    }
    single || double || escaped
}

/// The commands of a console block's code, starting at page line `first`.
fn commands(code: &str, first: usize) -> Vec<Cmd> {
    let mut commands: Vec<Cmd> = Vec::new();
    let mut outer: Option<&str> = None;
    let mut open = false; // The last command or typed line goes on.
    for (i, raw) in code.lines().enumerate() {
        let line = first + i;
        if open {
            let cmd = commands.last_mut().unwrap();
            let text = cmd.typed.last_mut().unwrap_or(&mut cmd.text);
            text.push('\n');
            text.push_str(raw);
            open = continues(text);
            continue;
        }
        match prompt_of(raw) {
            Some(prompt) if outer.is_none() || outer == Some(prompt) || commands.is_empty() => {
                outer = Some(prompt);
                let text = raw.trim_start()[prompt.len().min(raw.trim_start().len())..].to_string();
                open = continues(&text);
                commands.push(Cmd { line, text, typed: vec![], output: vec![] });
            }
            Some(prompt) => {
                let cmd = commands.last_mut().unwrap();
                let text = raw.trim_start()[prompt.len().min(raw.trim_start().len())..].to_string();
                open = continues(&text);
                cmd.typed.push(text);
            }
            None => {
                if let Some(cmd) = commands.last_mut() {
                    cmd.output.push(raw.to_string());
                }
            }
        }
    }
    commands
}

/// The mark right before a block, if any: `<!-- check: … -->`'s text.
/// The marks right before a block, in order: each `<!-- check: … -->`'s text.
fn marks_before(text: &str, fence_start: usize) -> Vec<String> {
    let mut marks = Vec::new();
    let mut before = text[..fence_start].trim_end();
    while let Some(comment) = before.strip_suffix("-->") {
        let Some(start) = comment.rfind("<!--") else { break };
        let Some(mark) = comment[start + 4..].trim().strip_prefix("check:") else { break };
        marks.insert(0, mark.trim().to_string());
        before = comment[..start].trim_end();
    }
    marks
}

/// Every console block of a page.
fn blocks(page: &Path, text: &str) -> Vec<Block> {
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut blocks = Vec::new();
    let mut current: Option<(usize, usize, String)> = None;
    let options = Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES;
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info)))
                if info.split([',', ' ']).next() == Some("console") =>
            {
                current = Some((range.start, line_of(range.start), String::new()));
            }
            Event::Text(code) => {
                if let Some((_, _, text)) = &mut current {
                    text.push_str(&code);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                let Some((start, line, code)) = current.take() else { continue };
                let commands = commands(&code, line + 1);
                let mut kind = match () {
                    _ if code.contains("{{#include") => Kind::Snapshot,
                    _ if commands.is_empty() => Kind::OutputOnly,
                    _ => Kind::Run,
                };
                let mut opts = Opts::default();
                for mark in marks_before(text, start) {
                    let (what, detail) = mark.split_once(':').unwrap_or((&mark, ""));
                    let detail = detail.trim().to_string();
                    match what.trim() {
                        "not run" => kind = Kind::NotRun(detail),
                        "typed into" => kind = Kind::TypedInto(detail),
                        "varies" => {
                            opts.varies = detail
                                .split([',', ' '])
                                .filter(|n| !n.is_empty())
                                .map(String::from)
                                .collect()
                        }
                        "ls columns" => opts.columns = true,
                        under if under.starts_with("under ") => {
                            opts.under.push((under["under ".len()..].trim().to_string(), detail))
                        }
                        _ => kind = Kind::NotRun(format!("UNKNOWN MARK `{mark}`")),
                    }
                }
                blocks.push(Block { page: page.to_path_buf(), line, kind, opts, commands });
            }
            _ => {}
        }
    }
    blocks
}

/// A block marked `typed into`: its lines are all typed into that command.
fn typed_into(block: &Block, command: &str) -> Vec<Cmd> {
    let mut typed = Vec::new();
    let mut output = Vec::new();
    for cmd in &block.commands {
        typed.push(cmd.text.clone());
        typed.extend(cmd.typed.iter().cloned());
        output.extend(cmd.output.iter().cloned());
    }
    vec![Cmd { line: block.line + 1, text: command.to_string(), typed, output }]
}

/// The script the block's shell runs: each command, its typed lines as its stdin,
/// then a line that says the next command starts (keeping `$?`).
fn script(commands: &[Cmd]) -> String {
    let mut script = String::new();
    for cmd in commands {
        if cmd.typed.is_empty() {
            script.push_str(&format!("{{ {}\n}} </dev/null\n", cmd.text));
        } else {
            script.push_str(&format!(
                "{{ {}\n}} <<'@@BOOK_TYPED@@'\n{}\n@@BOOK_TYPED@@\n",
                cmd.text,
                cmd.typed.join("\n")
            ));
        }
        script.push_str(&format!("__book_status=$?; echo '{NEXT}'; (exit $__book_status)\n"));
    }
    script
}

/// The filters, applied to the book's output and to the real one.
struct Filters {
    rules: Vec<(Regex, String)>,
    host: Regex,
}

impl Filters {
    fn new() -> Filters {
        let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let host = format!(r"\b(?:{}|mylaptop)\b", regex::escape(host.trim()));
        let rules = [
            (r"[ \t]+", " "),
            (r"\b([a-z_]+):\[\d+\]", "$1:[INODE]"),
            (r"\b\d+:\d\d\b", "[TIME]"),
            (r"^(?:[^:\s]+: line \d+: (?:\d+ )?)?(?:Killed|Terminated)\b.*$", ""),
        ];
        Filters {
            rules: rules.iter().map(|(re, to)| (Regex::new(re).unwrap(), to.to_string())).collect(),
            host: Regex::new(&host).unwrap(),
        }
    }

    fn apply(&self, line: &str) -> String {
        let mut line = self.host.replace_all(line.trim_end(), "[HOST]").into_owned();
        for (re, to) in &self.rules {
            line = re.replace_all(&line, to.as_str()).into_owned();
        }
        line.trim().to_string()
    }
}

/// Whether `actual` is what the book's `expected` shows, after the filters: a line
/// `…` is any number of lines, a `…` in a line any text.
fn matches(filters: &Filters, expected: &[String], opts: &Opts, actual: &str) -> bool {
    let varies = &opts.varies;
    let mut lines: Vec<String> = Vec::new();
    for line in expected {
        let fields: Vec<&str> =
            line.trim().split("  ").map(str::trim).filter(|f| !f.is_empty()).collect();
        let names = fields.len() >= 4 && fields.iter().all(|f| !f.contains(' '));
        match opts.columns && names {
            true => lines.extend(fields.iter().map(|f| f.to_string())),
            false => lines.push(line.clone()),
        }
    }
    let mut pattern = String::from("^");
    for line in &lines {
        let line = filters.apply(line);
        if line.is_empty() {
            continue;
        }
        if line == "…" {
            pattern.push_str(r"(?:[^\n]*\n)*");
        } else {
            let any_number = |part: &str| {
                let mut part = regex::escape(part);
                for number in varies {
                    let word = Regex::new(&format!(r"\b{}\b", regex::escape(number))).unwrap();
                    part = word.replace_all(&part, r"\d+").into_owned();
                }
                part
            };
            let parts: Vec<String> = line.split('…').map(any_number).collect();
            pattern.push_str(&parts.join(r"[^\n]*"));
            pattern.push('\n');
        }
    }
    pattern.push('$');
    let actual: String = (actual.lines().map(|l| filters.apply(l)))
        .filter(|l| !l.is_empty())
        .map(|l| l + "\n")
        .collect();
    Regex::new(&pattern).is_ok_and(|re| re.is_match(&actual))
}

/// Run `script` under `shell` as `sh`, in a mount namespace of its own; its output
/// (stdout and stderr) and whether it ended in time.
fn run(over: Over, script: &str, shims: &Path) -> (String, bool) {
    let (shell, path) = match over {
        Over::Nothing => (PathBuf::from("/usr/bin/dash"), shims.join("dash")),
        Over::BinSh(shell) => (PathBuf::from(shell), shims.join("dash")),
        Over::PathSh => (PathBuf::from("/usr/bin/dash"), shims.join("busybox")),
    };
    let path = format!(
        "{}:{}:{}",
        path.display(),
        shims.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let setup = r#"[ "$1" = /usr/bin/dash ] || mount --bind "$1" /usr/bin/dash || exit 99; exec /usr/bin/dash -c "$2""#;
    let (mut reader, writer) = std::io::pipe().expect("pipe");
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "--propagation", "private", "--", "/usr/bin/dash", "-c", setup, "sh"])
        .arg(&shell)
        .arg(script)
        .current_dir(repo())
        .env("PATH", &path)
        .stdin(Stdio::null())
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .process_group(0);
    for (key, _) in std::env::vars() {
        if key.starts_with("CARGO_") || key.starts_with("RUST_TEST") || key == "INSTA_UPDATE" {
            command.env_remove(key);
        }
    }
    let mut child = command.spawn().expect("start unshare");
    drop(command);
    let (send, receive) = mpsc::channel();
    thread::spawn(move || {
        let mut out = Vec::new();
        let _ = reader.read_to_end(&mut out);
        let _ = send.send(String::from_utf8_lossy(&out).into_owned());
    });
    let start = Instant::now();
    let mut in_time = true;
    loop {
        if child.try_wait().ok().flatten().is_some() {
            break;
        }
        if start.elapsed() > TIME_LIMIT {
            in_time = false;
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    // What the block left running (in its process group) goes, so the pipe closes.
    let grace = if in_time { Duration::from_secs(5) } else { Duration::ZERO };
    let out = receive.recv_timeout(grace).ok();
    let group = format!("-{}", child.id());
    let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
    let _ = child.wait();
    let out = out.or_else(|| receive.recv_timeout(Duration::from_secs(5)).ok());
    (out.unwrap_or_default(), in_time)
}

/// A directory first in PATH: `sudo` runs its command (we are root), and `cargo`
/// runs the built binaries for `cargo run -q -p P --` and `cargo course`.
fn shims() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("book-commands-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let target = repo().join("target/debug");
    let cargo = format!(
        r#"#!/bin/sh
# cargo, as the book's commands use it, without building: the built binaries.
case "$1 $2 $3" in
"run -q -p") p=$4; shift 4; [ "${{1:-}}" = -- ] && shift; exec "{t}/$p" "$@" ;;
"course "*) shift; exec "{t}/course" "$@" ;;
esac
echo "book/commands.rs: cargo $* is not run here: mark the block not run" >&2
exit 99
"#,
        t = target.display()
    );
    let sudo = "#!/bin/sh\n# We are root: run the command.\nexec \"$@\"\n";
    for (name, text) in [("cargo", cargo.as_str()), ("sudo", sudo)] {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    // `sh` first in PATH: busybox in its directory; nothing more in dash's.
    fs::create_dir_all(dir.join("dash")).unwrap();
    fs::create_dir_all(dir.join("busybox")).unwrap();
    let _ =
        std::os::unix::fs::symlink(repo().join("rootfs/fs/bin/busybox"), dir.join("busybox/sh"));
    dir
}

fn indent(lines: &str) -> String {
    if lines.is_empty() {
        return "    (nothing)\n".into();
    }
    lines.lines().map(|l| format!("    {l}\n")).collect()
}

/// The checker's own checks, on small pages: it finds, splits and compares as it
/// says it does.
fn self_test(filters: &Filters) {
    let page = "x\n\n```console\n$ sh -c 'exit 3'\n$ echo $?\n3\n$ sudo unshare --uts sh\n\
                # hostname\nmylaptop\n# echo 'a\nb'\na\nb\n```\n\n\
                <!-- check: not run: needs a terminal -->\n```console\n$ tty\n/dev/pts/0\n```\n\n\
                ```console\n{{#include a.snap:5:}}\n```\n\n```console\nstep01: error\n```\n";
    let blocks = blocks(Path::new("t.md"), page);
    let kinds: Vec<&Kind> = blocks.iter().map(|b| &b.kind).collect();
    assert_eq!(
        kinds,
        [&Kind::Run, &Kind::NotRun("needs a terminal".into()), &Kind::Snapshot, &Kind::OutputOnly]
    );
    let cmds = &blocks[0].commands;
    assert_eq!(cmds.len(), 3, "{cmds:#?}");
    assert_eq!((cmds[0].line, cmds[1].line, cmds[1].output.clone()), (4, 5, vec!["3".into()]));
    assert_eq!(cmds[2].typed, ["hostname", "echo 'a\nb'"]);
    assert_eq!(cmds[2].output, ["mylaptop", "a", "b"]);
    let lines = |text: &str| text.lines().map(String::from).collect::<Vec<_>>();
    let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    assert!(matches(
        filters,
        &lines("mylaptop\nuts:[4026531838]"),
        &Opts::default(),
        &format!("{host}uts:[1]")
    ));
    assert!(matches(filters, &lines("a\n…\nd … f"), &Opts::default(), "a\nb\nc\nd e f\n"));
    assert!(matches(filters, &lines("a\n…"), &Opts::default(), "a\n"));
    assert!(!matches(filters, &lines("a\nc"), &Opts::default(), "a\nb\n"));
    assert!(!matches(filters, &lines("137"), &Opts::default(), "143\n"));
    assert!(matches(
        filters,
        &lines("a 129 b"),
        &Opts { varies: vec!["129".into()], ..Opts::default() },
        "a 95 b\n"
    ));
    assert!(matches(
        filters,
        &lines("Killed\n137"),
        &Opts::default(),
        "sh: line 3: 28723 Killed   sh -c x\n137\n"
    ));
    assert!(matches(
        filters,
        &lines("bin  dev  etc  usr"),
        &Opts { columns: true, ..Opts::default() },
        "bin\ndev\netc\nusr\n"
    ));
}

fn main() -> ExitCode {
    let filters = Filters::new();
    self_test(&filters);
    let mut all = Vec::new();
    for page in pages() {
        let text = fs::read_to_string(src().join(&page)).unwrap();
        all.extend(blocks(&page, &text));
    }
    let only = std::env::args().nth(1).filter(|arg| !arg.starts_with('-'));
    let root = fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    });
    if !root {
        println!("book commands: not root: none of the book's commands is run (run as root)");
        return ExitCode::SUCCESS;
    }
    // The course's binaries, and the root filesystem, as `cargo run` would make them.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(&cargo)
        .args(["build", "-q", "--workspace", "--bins"])
        .current_dir(repo())
        .status();
    assert!(built.is_ok_and(|s| s.success()), "cargo build --workspace --bins failed");
    let rootfs = Command::new(repo().join("target/debug/rootfs"))
        .arg("--path")
        .current_dir(repo())
        .stdout(Stdio::null())
        .status();
    assert!(rootfs.is_ok_and(|s| s.success()), "the root filesystem could not be built");

    let shims = shims();
    let mut failures = Vec::new();
    let (mut run_commands, mut run_blocks) = (0, 0);
    let start = Instant::now();
    for block in &all {
        let here = format!("{}:{}", block.page.display(), block.line);
        if only.as_ref().is_some_and(|only| !here.contains(only.as_str())) {
            continue;
        }
        let commands = match &block.kind {
            Kind::Run => block.commands.clone(),
            Kind::TypedInto(command) => typed_into(block, command),
            _ => continue,
        };
        run_blocks += 1;
        run_commands += block.commands.iter().map(|c| 1 + c.typed.len()).sum::<usize>();
        let script = script(&commands);
        for (shell, over) in SHELLS {
            let (out, in_time) = run(over, &script, &shims);
            let mut parts: Vec<&str> = out.split(&format!("{NEXT}\n")).collect();
            let rest =
                if parts.len() > commands.len() { parts.split_off(commands.len()) } else { vec![] };
            for (i, cmd) in commands.iter().enumerate() {
                let actual = parts.get(i).copied().unwrap_or("");
                let late = if i + 1 == commands.len() { rest.join("") } else { String::new() };
                let actual = format!("{actual}{late}");
                let under = block.opts.under.iter().find(|(name, _)| name == shell);
                let expected = match under {
                    Some((_, line)) if commands.len() == 1 => vec![line.clone()],
                    _ => cmd.output.clone(),
                };
                if !in_time || !matches(&filters, &expected, &block.opts, &actual) {
                    let shown: String = std::iter::once(format!("$ {}", cmd.text))
                        .chain(cmd.typed.iter().map(|t| format!("> {t}")))
                        .map(|l| l + "\n")
                        .collect();
                    failures.push(format!(
                        "{}:{}: under sh = {shell}{}:\n{}  the book shows:\n{}  it printed:\n{}",
                        block.page.display(),
                        cmd.line,
                        if in_time { "" } else { " (killed after the time limit)" },
                        indent(&shown),
                        indent(&expected.join("\n")),
                        indent(&actual),
                    ));
                }
            }
        }
    }
    let _ = fs::remove_dir_all(&shims);

    let count = |kind: fn(&Kind) -> bool| all.iter().filter(|b| kind(&b.kind)).count();
    println!(
        "book commands: {run_commands} commands in {run_blocks} blocks run under sh = {} ({:.0?})",
        SHELLS.map(|(name, _)| name).join(", "),
        start.elapsed()
    );
    let mut reasons: Vec<(String, Vec<String>)> = Vec::new();
    for block in &all {
        if let Kind::NotRun(reason) = &block.kind {
            let here = format!("{}:{}", block.page.display(), block.line);
            match reasons.iter_mut().find(|(r, _)| r == reason) {
                Some((_, places)) => places.push(here),
                None => reasons.push((reason.clone(), vec![here])),
            }
        }
    }
    println!("book commands: {} blocks marked not run:", count(|k| matches!(k, Kind::NotRun(_))));
    for (reason, places) in &reasons {
        println!("  {} × {reason}: {}", places.len(), places.join(" "));
    }
    println!(
        "book commands: {} blocks are snapshots (checked by the steps' tests/book.rs), {} show an output alone",
        count(|k| *k == Kind::Snapshot),
        count(|k| *k == Kind::OutputOnly),
    );
    let unknown: Vec<_> = reasons.iter().filter(|(r, _)| r.starts_with("UNKNOWN")).collect();
    if !failures.is_empty() || !unknown.is_empty() {
        println!(
            "\n{} differences between the book and what its commands print:\n",
            failures.len()
        );
        for failure in &failures {
            println!("{failure}");
        }
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
