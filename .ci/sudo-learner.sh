#!/usr/bin/env bash
# A learner who is not root, as the README meets them: an account with sudo
# clones the course, runs a container, runs a step's tests, grades the step, asks
# the doctor, and deletes the clone with a plain `rm -rf` (issue 12).
#
#   1. sudo without a password;
#   2. sudo with a password, and no terminal (an editor's test runner): every
#      command fails at once, in one line that says what to do;
#   3. the same account in a terminal (tmux), the password typed when sudo asks.
# Between 2 and 3, that account (sudo cannot ask it) runs the locked-down program
# rootless.
#
# Run it as root, from anywhere: bash .ci/sudo-learner.sh
# It clones this repository's HEAD (commit first), makes the accounts
# course-nopw and course-pw, lends them this machine's Rust toolchain (read-only),
# and removes all of it at the end. Each learner builds the course from scratch;
# the crates come from the registry. One summary line, exit 0 only if every
# check passed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
[[ $(id -u) == 0 ]] || { echo "sudo-learner: run as root (it makes accounts)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
for tool in sudo tmux git; do
    command -v "$tool" >/dev/null || apt-get install -y -q -o DPkg::Lock::Timeout=600 "$tool"
done

nopw=course-nopw pw=course-pw password=course-learner-pw
session=course-sudo-learner pane_log=/tmp/course-sudo-learner-$$.log
started=$(date +%s)

# The toolchain: ours, lent read-only where the learners can reach it (root's
# home is closed to them).
sysroot=$(rustc --print sysroot)
toolchain=$sysroot lent=""
if ! runuser -u nobody -- test -x "$sysroot/bin/cargo"; then
    lent=/opt/course-toolchain-$$
    mkdir -p "$lent"
    mount --bind "$sysroot" "$lent"
    mount -o remount,bind,ro "$lent"
    toolchain=$lent
fi

cleanup() {
    set +e # clean up all of it, whatever fails
    tmux kill-session -t "$session" 2>/dev/null
    for user in "$nopw" "$pw"; do
        rm -f "/etc/sudoers.d/$user"
        if id "$user" >/dev/null 2>&1; then
            pkill -KILL -U "$user" 2>/dev/null
            sleep 0.2
            userdel -f -r "$user" 2>/dev/null
        fi
    done
    [[ -z $lent ]] || { umount "$lent" && rmdir "$lent"; }
    rm -f "$pane_log"
}
trap cleanup EXIT

passed=0 failed=0
# expect NAME WANT GOT
expect() {
    if [[ $2 == "$3" ]]; then
        passed=$((passed + 1)); echo "PASS $1: $3"
    else
        failed=$((failed + 1)); echo "FAIL $1: wanted '$2', got '$3'"
    fi
}

# learner USER COMMAND: COMMAND in USER's home, in a clean environment as a
# login would give it, with the toolchain on PATH. Its stderr joins stdout.
learner() {
    runuser -u "$1" -- env -i HOME="/home/$1" USER="$1" LOGNAME="$1" SHELL=/bin/bash TERM=dumb \
        PATH="$toolchain/bin:/usr/local/bin:/usr/bin:/bin" bash -c "cd ~ && $2" 2>&1
}

# make_learner USER SUDOERS-RULE: the account, its sudo rule, its clone.
make_learner() {
    id "$1" >/dev/null 2>&1 && { echo "sudo-learner: the account $1 exists already" >&2; exit 1; }
    useradd -m -s /bin/bash "$1"
    echo "$1 $2" >"/etc/sudoers.d/$1"
    chmod 440 "/etc/sudoers.d/$1"
    # git refuses to read a repository someone else owns unless told it is safe.
    learner "$1" "git config --global --add safe.directory '*' && git clone -q '$repo' course"
}

# not_theirs USER: how many files in the clone USER does not own.
not_theirs() {
    find "/home/$1/course" ! -user "$1" | wc -l
}

echo "== 1. $nopw: sudo without a password"
make_learner "$nopw" "ALL=(ALL) NOPASSWD: ALL"
out=$(learner "$nopw" "cd course && cargo run -q -p step05-chroot-proc -- run /bin/sh -c 'hostname; exit 3'") && status=0 || status=$?
echo "$out" | tail -n 3
expect "cargo run: the container runs, the runner says nothing" "exit 3, container, runner lines: 0" \
    "exit $status, $(echo "$out" | tail -n 1), runner lines: $(grep -c '^runner:' <<<"$out")"
out=$(learner "$nopw" "cd course && cargo test -q -p step05-chroot-proc") && status=0 || status=$?
echo "$out" | grep -E '^test result|^runner' || true
expect "cargo test -p step05-chroot-proc" "exit 0, runner lines: 0" "exit $status, runner lines: $(grep -c '^runner:' <<<"$out")"
# What tests write as root must become theirs too: a snapshot that no longer
# matches (here, one the learner changed) leaves a .snap.new beside it.
snapshot=step05-chroot-proc/tests/snapshots/ours__isolation_matrix_row.snap
out=$(learner "$nopw" "cd course && echo changed >>$snapshot && INSTA_UPDATE=new cargo test -q -p step05-chroot-proc --test ours; git checkout -q $snapshot") || true
new=$(find "/home/$nopw/course" -name '*.snap.new' | wc -l)
expect "snapshots written as root are the learner's" "some .snap.new, 0 not theirs" \
    "$( ((new > 0)) && echo some || echo no) .snap.new, $(not_theirs "$nopw") not theirs"
out=$(learner "$nopw" "cd course && cargo course grade --bin target/debug/step05-chroot-proc 5") && status=0 || status=$?
expect "cargo course grade --bin" "exit 0: step05-chroot-proc: pass" "exit $status: $(tail -n 1 <<<"$out")"
out=$(learner "$nopw" "cd course && cargo course doctor") && status=0 || status=$?
echo "$out"
expect "cargo course doctor" "exit 0: All seven steps can run here." "exit $status: $(tail -n 1 <<<"$out")"
expect "nothing in the clone is root's" "0" "$(not_theirs "$nopw")"
out=$(learner "$nopw" "rm -rf ~/course && test ! -e ~/course") && status=0 || status=$?
expect "rm -rf ~/course, no sudo" "exit 0, errors: 0" "exit $status, errors: $(grep -c . <<<"$out")"

echo "== 2. $pw: sudo with a password, no terminal"
make_learner "$pw" "ALL=(ALL) ALL"
echo "$pw:$password" | chpasswd
no_terminal() { learner "$pw" "setsid -w bash -c '$1' </dev/null"; }
out=$(no_terminal "cd course && cargo run -q -p step05-chroot-proc -- run /bin/true") && status=0 || status=$?
echo "$out" | tail -n 2
expect "cargo run fails in one line saying what to do" "exit 125, 1 runner line, says: run cargo in a terminal" \
    "exit $status, $(grep -c '^runner:' <<<"$out") runner line, says: $(grep -o 'run cargo in a terminal' <<<"$out")"
out=$(no_terminal "cd course && cargo course doctor") && status=0 || status=$?
echo "$out" | head -n 1
expect "the doctor says why" "exit 1, step 1: no terminal to type it in: 1, steps 2-7 as step 1: 6" \
    "exit $status, step 1: no terminal to type it in: $(grep -c '^step01-exec .* no — .*no terminal to type it in' <<<"$out"), steps 2-7 as step 1: $(grep -c '^step0[2-7]-[a-z-]* *no — as step01-exec$' <<<"$out")"

# Break out, then lock down: the locked-down program needs no root where the
# kernel allows user namespaces. This account, whose sudo cannot ask, runs it as
# itself: root inside, an unprivileged user outside.
printf 'cd ~/course && cargo build -q -p lockdown && target/debug/lockdown run --rootfs %s/rootfs/fs /bin/sh -c "id -u; hostname"\n' "$repo" >"/home/$pw/rootless.sh"
out=$(no_terminal "bash rootless.sh") && status=0 || status=$?
echo "$out" | tail -n 3
expect "lockdown as a plain user: id 0 inside, hostname container" "exit 0: 0 container" "exit $status: $(tail -n 2 <<<"$out" | xargs)"

echo "== 3. $pw: sudo with a password, typed in a terminal (tmux)"
# The learner's session, in a terminal: the doctor first (sudo asks), then, with
# sudo's memory of the password cleared, the container (the runner's sudo asks).
cat >"/home/$pw/session.sh" <<'SESSION'
cd ~/course
run() { "$@"; echo "$* -> exit $?" >>~/results; }
run cargo course doctor
sudo -k
run cargo run -q -p step05-chroot-proc -- run /bin/true
run cargo test -q -p step05-chroot-proc
run cargo course grade --bin target/debug/step05-chroot-proc 5
find ~/course ! -user "$USER" | wc -l >~/not-mine
cd ~ && rm -rf ~/course && test ! -e ~/course
echo "rm -rf -> exit $?" >>~/results
touch ~/done
SESSION
chown "$pw:" "/home/$pw/session.sh"
tmux new-session -d -s "$session" -x 200 -y 50 \
    "sleep 1; runuser -u $pw -- env -i HOME=/home/$pw USER=$pw LOGNAME=$pw SHELL=/bin/bash TERM=xterm PATH=$toolchain/bin:/usr/local/bin:/usr/bin:/bin bash /home/$pw/session.sh; sleep 1"
tmux pipe-pane -t "$session" -o "cat >>$pane_log"
answered=0
for _ in $(seq 1800); do                         # at most 30 minutes
    [[ -e /home/$pw/done ]] && break
    asked=$(grep -c "password for $pw" "$pane_log" 2>/dev/null || true)
    if ((asked > answered)); then
        tmux send-keys -t "$session" "$password" Enter
        answered=$asked
    fi
    sleep 1
done
tr -d '\r' <"$pane_log" | grep -E 'runner:|doctor:|password for|step0[1-7]-' || true
cat "/home/$pw/results" 2>/dev/null || true
expect "every command in the terminal" "0 failed of 5" \
    "$(grep -vc -- '-> exit 0$' "/home/$pw/results" 2>/dev/null || true) failed of $(grep -c . "/home/$pw/results" 2>/dev/null || true)"
expect "sudo asked twice (doctor, runner), each said why first" "asked 2, doctor said why: 1, runner said why: 1" \
    "asked $answered, doctor said why: $(grep -c 'doctor: .*sudo asks for your password' "$pane_log"), runner said why: $(grep -c 'runner: step05-chroot-proc needs root.*sudo asks for your password' "$pane_log")"
expect "nothing in the clone was root's" "0" "$(cat "/home/$pw/not-mine" 2>/dev/null)"

echo
echo "sudo-learner: $passed passed, $failed failed ($(($(date +%s) - started)) s)"
((failed == 0))
