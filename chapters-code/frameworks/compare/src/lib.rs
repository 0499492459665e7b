//! The catalog slice in four frameworks: what each must do (the
//! [`contract`]), how each one's middleware was built ([`stacks`]), and
//! the counting the bench does ([`measure`]).

pub mod contract;
pub mod measure;
pub mod stacks;
