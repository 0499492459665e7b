//! The catalog slice in four frameworks: what each must do (the
//! [`contract`]), how each one's middleware was built ([`stacks`]), and
//! the lines of code the bench counts ([`measure`]).

pub mod contract;
pub mod measure;
pub mod stacks;
