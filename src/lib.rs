//! Kasse: a self-hosted hosted checkout. This crate is the server; `main.rs` is a thin CLI over it.

pub mod api;
pub mod app;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod ops;
pub mod payments;
pub mod services;
pub mod state;
pub mod web;
