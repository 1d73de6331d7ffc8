use std::process::ExitCode;

fn main() -> ExitCode {
    match braingap::cli::run() {
        Ok(code) => code,
        // A closed stdout (`braingap runs | head -1`) ends the command quietly, as cargo's
        // and ripgrep's do: what was to be stored is stored before anything is printed.
        Err(err) if broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            braingap::diag!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
