//! # parex-cli
//!
//! The `parex` command line and the tools around the library: the seeded
//! workload generators ([`workload`]) that the benchmark, the criterion
//! benches and the differential tests share; the measurements `parex bench`
//! prints ([`bench`](mod@bench)); `parex run`, `replay` and `inspect` on a
//! durable store with its block archive ([`tools`]); the fuzz harnesses
//! ([`fuzz`]) that both the cargo-fuzz targets (`fuzz/`) and the test suite
//! run; and the soak engine ([`soak`]) behind `examples/soak` and the short
//! soak test. It is its own crate so that an embedder who depends on `parex`
//! pulls none of its dependencies (clap, plotters, indicatif, serde_json,
//! prio-graph, rand).

pub mod bench;
pub mod fuzz;
pub mod soak;
pub mod tools;
pub mod workload;
