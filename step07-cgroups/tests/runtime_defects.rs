//! Runtime defects once found in this course's step 7, each checked so that it
//! stays fixed (rootfs/harness/src/defects.rs). Not graded: they check this
//! program's own behaviour and messages.

harness::runtime_defect_tests!(7);
