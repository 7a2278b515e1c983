//! The `calos` binary: everything lives in the library so tests can reach it.

fn main() -> std::process::ExitCode {
    calos_server::cli::run()
}
