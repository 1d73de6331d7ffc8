use std::process::ExitCode;

fn main() -> ExitCode {
    match braingap::cli::run() {
        Ok(code) => code,
        Err(err) => {
            braingap::diag!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
