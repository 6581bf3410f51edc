//! The checks of step 6's exercises (step06-mount-ns/exercises/README.md). Each one
//! fails until its exercise is solved: `cargo test -p step06-mount-ns --test exercises`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use harness::{
    DirectoriesMade, HostMounts, Output, Running, ScratchDir, TestFiles, assert_option_accepted,
    claim, mount_points_printed, mounts_below, rootfs, step,
};
use nix::mount::{MsFlags, mount};

fn read_only_root() {
    // A root filesystem on a tmpfs of its own, never the course's tree: that is a
    // plain directory on the host's `/`, and a wrong remount (MS_REMOUNT without
    // MS_BIND) makes a whole filesystem read-only, for the host too. Here it is only
    // this tmpfs, which the check then finds read-only on the host.
    let root = RootOnItsOwnTmpfs::new();
    let tree = root.path().display().to_string();
    let host = HostMounts::now();
    let name = format!("read-only-root-{}", std::process::id());
    let script = format!(
        "if touch /{name} 2>/dev/null; then echo written; else echo refused; fi; \
         cat /proc/self/mountinfo"
    );
    let out = step!().run(&["--rootfs", &tree, "--read-only", "/bin/sh", "-c", &script]);
    let written_after = fs::write(root.path().join(&name), "written on the host\n");
    assert_option_accepted(&out, "--read-only");
    assert_eq!(out.code, 0, "the container failed: {out:?}");
    let mut lines = out.stdout.lines();
    assert_eq!(
        lines.next(),
        Some("refused"),
        "`touch /{name}` inside wrote to the root filesystem\n\
         hint: bind-mount the root filesystem on itself, then remount it MS_RDONLY"
    );
    // mountinfo: ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER
    let root_line = lines.rfind(|line| line.split(' ').nth(4) == Some("/"));
    let (own, filesystem) = match root_line.and_then(|line| line.split_once(" - ")) {
        Some((mount, fs)) => (mount.split(' ').nth(5), fs.split(' ').nth(2)),
        None => (None, None),
    };
    let has_option = |options: Option<&str>, wanted: &str| {
        options.unwrap_or_default().split(',').any(|option| option == wanted)
    };
    claim(
        "the mount at / inside is read-only (`ro` among its own options in /proc/self/mountinfo)",
    )
    .expected("`ro` in the options of the line of `/`, before ` - `")
    .shown(format!("the line of /: {}", root_line.unwrap_or("none")))
    .hint("bind-mount the root filesystem on itself, then remount it MS_RDONLY")
    .holds(has_option(own, "ro"));
    let filesystem_kept = has_option(filesystem, "rw") && written_after.is_ok();
    claim("only the container's mount is read-only: the filesystem itself, and the host's mounts of it, stay writable")
        .expected(format!(
            "`rw` among the filesystem's options (after ` - TYPE SOURCE`) in the line of `/`, \
             and the host can write into {tree} once the container has ended"
        ))
        .shown(format!(
            "the line of /: {}\nthe host's write into {tree}: {}",
            root_line.unwrap_or("none"),
            written_after.as_ref().map_or_else(|err| err.to_string(), |()| "done".into())
        ))
        .hint(
            "remount with MS_BIND | MS_REMOUNT | MS_RDONLY: without MS_BIND, the remount \
             changes the filesystem itself, read-only for every mount of it, the host's too \
             (with the tree on the host's `/`, the whole machine's)",
        )
        .holds(filesystem_kept);
    let left = host.added();
    assert!(left.is_empty(), "the container's mounts reached the host: {left:?}");
    let left = root.added();
    assert!(left.is_empty(), "the container's mounts reached the host: {left:?}");
}

/// A copy of the course's root filesystem on a tmpfs of its own, mounted on a
/// scratch directory; unmounted and removed when dropped, also when the test fails.
struct RootOnItsOwnTmpfs {
    scratch: ScratchDir,
    mounts: Vec<PathBuf>,
}

impl RootOnItsOwnTmpfs {
    fn new() -> RootOnItsOwnTmpfs {
        let scratch = ScratchDir::new("read-only-root");
        let dir = scratch.path();
        mount(Some("tmpfs"), dir, Some("tmpfs"), MsFlags::empty(), Some("size=64m,mode=755"))
            .unwrap_or_else(|err| panic!("mount a tmpfs on {}: {err}", dir.display()));
        // -x: not into a mount below the tree (a proc left by a step 5 container).
        let copied = Command::new("cp")
            .args(["-a", "-x", "--"])
            .args([rootfs().join("."), dir.to_path_buf()])
            .status()
            .unwrap_or_else(|err| panic!("cannot run cp (coreutils): {err}"));
        assert!(copied.success(), "cp -a the root filesystem to {}", dir.display());
        let mounts = mounts_below(std::process::id() as i32, dir);
        RootOnItsOwnTmpfs { scratch, mounts }
    }

    fn path(&self) -> &Path {
        self.scratch.path()
    }

    /// Mount points at or below the tree that were not there when it was made.
    fn added(&self) -> Vec<PathBuf> {
        let now = mounts_below(std::process::id() as i32, self.path());
        now.into_iter().filter(|mount| !self.mounts.contains(mount)).collect()
    }
}

fn volume() {
    let host = HostMounts::now();
    let me = std::process::id();
    let scratch = ScratchDir::new("volume-exercise");
    let host_dir = scratch.path();
    let (from_host, from_container) = (format!("from-host-{me}"), format!("from-container-{me}"));
    let later = format!("later-from-host-{me}");
    let in_rootfs = |name: &str| rootfs().join("tmp").join(name);
    let _files = TestFiles::at([&from_container, &from_host, &later].map(|name| in_rootfs(name)));
    fs::write(host_dir.join(&from_host), "written on the host\n")
        .unwrap_or_else(|err| panic!("write in {}: {err}", host_dir.display()));
    let spec = format!("{}:/tmp", host_dir.display());

    assert_option_accepted(&step!().run(&["--volume", &spec, "/bin/true"]), "--volume");
    let script = format!(
        "cat /tmp/{from_host}; echo written inside > /tmp/{from_container}; \
         cat /proc/self/mountinfo; echo ready; read x; cat /tmp/{later}; true"
    );
    let mut running = step!().start(&["--volume", &spec, "/bin/sh", "-c", &script]);
    running.wait_for_line("ready");
    let leaked = host.added();
    // Written while the container runs, after it has started: a copy made at the
    // start misses it; the same directory, shared, has it.
    fs::write(host_dir.join(&later), "written on the host later\n")
        .unwrap_or_else(|err| panic!("write in {}: {err}", host_dir.display()));
    let out = running.finish();
    let left_in_rootfs = in_rootfs(&from_container).exists();
    assert_eq!(out.code, 0, "the container failed: {out:?}");
    assert_eq!(
        out.stdout.lines().next(),
        Some("written on the host"),
        "`cat /tmp/{from_host}` inside did not print the file the host put in {}: {out:?}\n\
         hint: bind-mount it (MS_BIND) on the directory below the root filesystem, before chroot",
        host_dir.display()
    );
    let (mountinfo, _) = out.stdout.split_once("ready\n").unwrap_or_default();
    let points = mount_points_printed(mountinfo);
    let shared_live = out.stdout.lines().last() == Some("written on the host later");
    claim("HOST_DIR is mounted at /tmp inside: the host's directory itself, not a copy")
        .expected(format!(
            "a mount at /tmp in /proc/self/mountinfo inside; the file the host wrote in {} \
             while the container ran read inside; nothing written in {} on the host",
            host_dir.display(),
            rootfs().join("tmp").display()
        ))
        .program(&out)
        .shown(format!(
            "mount points inside: {points:?}; the later file read: {shared_live}; \
             the container's file left in the root filesystem: {left_in_rootfs}"
        ))
        .hint(
            "bind-mount HOST_DIR (MS_BIND) on the directory below the root filesystem, before \
             chroot: copying its files in and back is not sharing it",
        )
        .holds(points.iter().any(|p| p == Path::new("/tmp")) && shared_live && !left_in_rootfs);
    let written = fs::read_to_string(host_dir.join(&from_container)).unwrap_or_default();
    assert_eq!(
        written,
        "written inside\n",
        "the file the container wrote to /tmp is not in {} on the host",
        host_dir.display()
    );
    assert!(leaked.is_empty(), "the host's mount table showed the container's mounts: {leaked:?}");
    let left = host.added();
    assert!(left.is_empty(), "the container's mounts were left on the host: {left:?}");
    assert_volume_usage_errors(host_dir);
}

/// A `--volume` value without `:`, or with a relative DIR, is a usage error (exit 2).
fn assert_volume_usage_errors(host_dir: &Path) {
    let host = host_dir.display();
    for (value, why) in [
        (host.to_string(), "it has no `:`"),
        (format!("{host}:tmp"), "its DIR, `tmp`, is not an absolute path"),
    ] {
        let out = step!().run(&["--volume", &value, "/bin/true"]);
        claim(format!("`run --volume {value} /bin/true` is a usage error: {why}"))
            .expected("exit code 2, as clap reports a usage error, and the command not run")
            .program(&out)
            .hint(
                "parse the value in a `value_parser` function that returns an Err (not a panic) \
                 when it has no `:` or DIR does not start with `/`: clap then reports it, exit \
                 code 2",
            )
            .holds(out.code == 2);
    }
}

fn pivot_root() {
    let host = HostMounts::now();
    // nsenter into PID 1's mount namespace makes its root the namespace's root: the
    // host's `/` unless pivot_root changed it. Its programs are then the host's.
    let escape = "nsenter --mount=/proc/1/ns/mnt";
    let script = format!(
        "ls -di /; echo --; {escape} /bin/ls -di /; echo --; {escape} /bin/cat /proc/self/mountinfo; \
         echo --; cat /proc/self/mountinfo"
    );
    // Eight containers at once, as the graded tests start them: a solution that
    // shares something between containers (one put_old directory in the root
    // filesystem for all) fails here, not only later, at random, in other tests.
    let step = step!();
    let made = DirectoriesMade::watch(&rootfs());
    let running: Vec<Running> = (0..8).map(|_| step.start_sh(&script)).collect();
    let outputs: Vec<Output> = running.into_iter().map(Running::finish).collect();
    // Sharing one shows as a race only when two containers meet there (some fail,
    // at random): the directory itself shows every time.
    let made = made.names();
    claim("the containers make no directory in the root filesystem they share")
        .expected("none: pivot_root(\".\", \".\") needs no put_old directory")
        .shown(format!("made: {}", made.join(" ")))
        .hint(
            "containers started at once share the root filesystem: a fixed directory in it \
             for the old root is a race between them. pivot_root(\".\", \".\"), then \
             umount2(\".\", MNT_DETACH), needs none",
        )
        .holds(made.is_empty());
    for out in &outputs {
        assert_cannot_escape(out, escape);
    }
    let left = host.added();
    assert!(left.is_empty(), "the container's mounts reached the host: {left:?}");
}

/// What one container of `pivot_root` printed shows a root it cannot leave, and
/// only its own two mounts.
fn assert_cannot_escape(out: &Output, escape: &str) {
    let parts: Vec<&str> = out.stdout.split("--\n").collect();
    let ran = parts.len() == 4;
    claim("the container runs the script to its end")
        .expected(
            "its four parts: `ls -di /`, the same through nsenter, the mountinfo there and here",
        )
        .program(out)
        .hint(
            "of eight containers started at once, one did not get through: does your solution \
             share a directory between containers? Its own message is on stderr",
        )
        .holds(ran);
    let [inside, escaped, mountinfo, own_mountinfo] = parts[..] else { return };
    let points = mount_points_printed(mountinfo);
    // After pivot_root(".", "."), the old root is stacked on the new one, at `/`: the
    // container sees two mounts there.
    let at_root =
        mount_points_printed(own_mountinfo).iter().filter(|p| *p == Path::new("/")).count();
    let stacked = at_root > 1;
    let hint = match stacked {
        true => {
            "the old root is still mounted, on top of the new one at `/`: after \
             pivot_root(\".\", \".\"), unmount the old root with umount2(\".\", MNT_DETACH)"
        }
        false => "make the root filesystem the mount namespace's root with pivot_root, not chroot",
    };
    let inode = |ls: &str| ls.split_whitespace().next().unwrap_or_default().to_owned();
    claim(format!("`{escape} /bin/ls -di /` stays in the container"))
        .expected(format!("inode {} of the container's `/`", inode(inside)))
        .shown(format!("inode {}: the chroot can be escaped", inode(escaped)))
        .program(out)
        .hint(hint)
        .holds(inode(escaped) == inode(inside));
    claim("the container's mount namespace holds its own two mounts")
        .expected("/ and /proc")
        .shown(format!("{} mounts: {points:?}", points.len()))
        .hint("after pivot_root, unmount the old root with umount2(MNT_DETACH)")
        .holds(points == [Path::new("/"), Path::new("/proc")]);
}

harness::tests!(read_only_root, volume, pivot_root);
