//! The graded checks, one module per step, each check with its hint. They are
//! methods of [`crate::StepProgram`]; a step's tests run the checks of its own step and of
//! every step before it ([`crate::registry`]).

pub mod step01;
pub mod step02;
pub mod step03;
pub mod step04;
pub mod step05;
pub mod step06;
pub mod step07;
