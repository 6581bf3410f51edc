//! Load: 16 containers at once, each running a fork bomb. A test binary of its
//! own, so that no other test of this step runs meanwhile. It checks this course's own program under load; grading another
//! program (.ci/grade.sh) leaves it out.

use harness::{
    FORK_BOMB, assert_cgroup_removed, assert_held_at_limit, assert_host_can_start_a_process,
    descendants, step,
};

#[test]
fn sixteen_fork_bombs_at_once_are_each_held_and_all_end() {
    // Each bomb has the harness's time for one container from its start, 30 s times
    // CONTAINER_TIMEOUT_SCALE: a slow machine that sets the other bombs off one by
    // one meanwhile raises that.
    let step = step!();
    let mut bombs: Vec<_> = (0..16).map(|_| step.start_sh(FORK_BOMB)).collect();
    let cgroups: Vec<_> = bombs.iter_mut().map(|bomb| bomb.detonate_fork_bomb(20)).collect();
    for cgroup in &cgroups {
        assert_held_at_limit(cgroup, 20);
    }
    assert_host_can_start_a_process();
    for bomb in bombs {
        bomb.finish();
    }
    for cgroup in &cgroups {
        assert_cgroup_removed(cgroup);
    }
    // Every process of a bomb was in its cgroup, and every cgroup is gone: none is
    // left. Nor is any other process this test started.
    let left = descendants(std::process::id() as i32);
    assert!(left.is_empty(), "processes left after the bombs ended: {left:?}");
}
