//! The `lifeboat` command line: parses arguments, calls the library, prints
//! results, and reports any error once as `lifeboat: <what went wrong>`.
//!
//! Exit codes: 0 success; 1 `predict` finished but some rows were rejected;
//! 2 an error stopped the command (bad arguments, unreadable or invalid file).

mod cli;

/// mimalloc instead of the system allocator: with glibc's malloc, allocating
/// and freeing took about a quarter of the instructions of a JSON prediction
/// (measured with callgrind, bench/tools/instructions.py). See `alloc.rs`.
#[global_allocator]
static ALLOCATOR: lifeboat::alloc::Allocator = lifeboat::alloc::Allocator;

use std::process::ExitCode;

fn main() -> ExitCode {
    lifeboat::alloc::keep_small_pages();
    let args = cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            let stdout = err
                .chain()
                .find_map(|e| e.downcast_ref::<cli::StdoutError>());
            if stdout.is_some_and(cli::StdoutError::is_closed_pipe) {
                // `lifeboat inspect | head -3`: the reader has what it wanted.
                return ExitCode::SUCCESS;
            }
            eprintln!("lifeboat: {err:#}");
            ExitCode::from(2)
        }
    }
}
