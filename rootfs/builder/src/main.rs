//! `cargo run -p rootfs`: (re)build the root filesystem the containers chroot into.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Builds (or rebuilds) the busybox root filesystem that the containers chroot into.
#[derive(Parser)]
struct Cli {
    /// Print the tree's path, building it only if missing, and nothing else on stdout.
    #[arg(long)]
    path: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.path {
        true => print_path(),
        false => rebuild(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("rootfs: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `--path`: for scripts, e.g. `chroot "$(cargo run -q -p rootfs -- --path)" sh`.
fn print_path() -> Result<(), rootfs::Error> {
    let dir: PathBuf = rootfs::ensure()?;
    println!("{}", dir.display());
    Ok(())
}

/// Default: build a fresh tree and swap it in for the old one.
fn rebuild() -> Result<(), rootfs::Error> {
    let dir = rootfs::rebuild_at(&rootfs::default_dir())?;
    println!("rootfs: built {}", dir.display());
    Ok(())
}
