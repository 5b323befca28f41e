//! # parex-cli
//!
//! The `parex` command line and what it needs beside the library: the
//! seeded workload generators ([`workload`]) that the benchmark, the
//! criterion benches and the differential tests share, and the measurements
//! `parex bench` prints ([`bench`](mod@bench)). It is its own crate so that an
//! embedder who depends on `parex` pulls none of its dependencies (clap,
//! plotters, indicatif, serde_json, prio-graph, rand).

pub mod bench;
pub mod workload;
