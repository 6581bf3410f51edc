//! The checks of step 6's exercises (step06-mount-ns/exercises/README.md). Each one
//! fails until its exercise is solved: `cargo test -p step06-mount-ns --test exercises`.

use std::fs;
use std::path::Path;

use harness::{
    DirectoriesMade, HostMounts, Output, Running, ScratchDir, TestFiles, assert_option_accepted,
    claim, mount_points_printed, rootfs, step,
};

fn read_only_root() {
    let host = HostMounts::now();
    let name = format!("read-only-root-{}", std::process::id());
    let _files = TestFiles::at([rootfs().join(&name)]);
    let script = format!(
        "if touch /{name} 2>/dev/null; then echo written; else echo refused; fi; \
         grep '^[^ ]* / ' /proc/mounts"
    );
    let out = step!().run(&["--read-only", "/bin/sh", "-c", &script]);
    assert_option_accepted(&out, "--read-only");
    assert_eq!(out.code, 0, "the container failed: {out:?}");
    let mut lines = out.stdout.lines();
    assert_eq!(
        lines.next(),
        Some("refused"),
        "`touch /{name}` inside wrote to the root filesystem\n\
         hint: bind-mount the root filesystem on itself, then remount it MS_RDONLY"
    );
    let root_options = lines.next().and_then(|line| line.split(' ').nth(3)).unwrap_or_default();
    assert!(
        root_options.split(',').any(|option| option == "ro"),
        "expected the line of / in /proc/mounts inside to show `ro`; saw:\n{}",
        out.stdout
    );
    let left = host.added();
    assert!(left.is_empty(), "the container's mounts reached the host: {left:?}");
}

fn volume() {
    let host = HostMounts::now();
    let me = std::process::id();
    let scratch = ScratchDir::new("volume-exercise");
    let host_dir = scratch.path();
    let (from_host, from_container) = (format!("from-host-{me}"), format!("from-container-{me}"));
    let _files = TestFiles::at([rootfs().join("tmp").join(&from_container)]);
    fs::write(host_dir.join(&from_host), "written on the host\n")
        .unwrap_or_else(|err| panic!("write in {}: {err}", host_dir.display()));
    let spec = format!("{}:/tmp", host_dir.display());

    assert_option_accepted(&step!().run(&["--volume", &spec, "/bin/true"]), "--volume");
    let script = format!(
        "cat /tmp/{from_host}; echo written inside > /tmp/{from_container}; echo ready; read x; true"
    );
    let mut running = step!().start(&["--volume", &spec, "/bin/sh", "-c", &script]);
    running.wait_for_line("ready");
    let leaked = host.added();
    let out = running.finish();
    assert_eq!(out.code, 0, "the container failed: {out:?}");
    assert_eq!(
        out.stdout.lines().next(),
        Some("written on the host"),
        "`cat /tmp/{from_host}` inside did not print the file the host put in {}: {out:?}\n\
         hint: bind-mount it (MS_BIND) on the directory below the root filesystem, before chroot",
        host_dir.display()
    );
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
