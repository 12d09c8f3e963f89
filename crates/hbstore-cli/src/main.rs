//! `hbstore`: the command-line tool for hbstore stores (the library of
//! this crate, `src/lib.rs`, is the tool).

fn main() -> std::process::ExitCode {
    hbstore_cli::main()
}
