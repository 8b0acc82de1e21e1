//! lifeboat: put a trained machine-learning model on the web.
//!
//! The library is the program; `src/main.rs` is a thin command line around it.
//! See ARCHITECTURE.md for the map of modules and how a request flows.

pub mod alloc;
pub mod batch;
pub mod builtin;
pub mod card;
pub mod csvfile;
pub mod import;
pub mod model;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod quote;
pub mod schema;
pub mod serve;
pub mod source;
pub mod spreadsheet;
pub mod train;
