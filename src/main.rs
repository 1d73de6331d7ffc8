use std::process::ExitCode;

fn main() -> ExitCode {
    match braingap::cli::run() {
        Ok(code) => code,
        Err(err) => {
            braingap::diag!("error: {}", braingap::cli::error_line(&err));
            ExitCode::from(2)
        }
    }
}
