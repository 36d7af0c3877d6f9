use std::process::ExitCode;

fn main() -> ExitCode {
    let status = vinit::cli::main(std::env::args_os().collect());
    ExitCode::from(u8::try_from(status).unwrap_or(1))
}
