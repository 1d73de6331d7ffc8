//! Records the toolchain and the git commit of the build for the machine fingerprint.
use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = output(&rustc, &["--version"]).unwrap_or_default();
    println!("cargo:rustc-env=BRAINGAP_RUSTC_VERSION={version}");
    let commit = output("git", &["rev-parse", "HEAD"]).unwrap_or_default();
    let dirty = output("git", &["status", "--porcelain", "--untracked-files=no"]).is_some();
    let commit = if commit.is_empty() {
        String::new()
    } else if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    };
    println!("cargo:rustc-env=BRAINGAP_GIT_COMMIT={commit}");
    // Empty on a detached HEAD (CI checkouts): `braingap run` then reads $BRAINGAP_GIT_BRANCH.
    let branch = output("git", &["symbolic-ref", "--short", "-q", "HEAD"]).unwrap_or_default();
    println!("cargo:rustc-env=BRAINGAP_BUILD_GIT_BRANCH={branch}");
    // The build profile and optimisation level: instruction counts depend on them, so a
    // counting run records them (`braingap compare --across-machines` matches on them).
    let profile = std::env::var("PROFILE").unwrap_or_default();
    let opt_level = std::env::var("OPT_LEVEL").unwrap_or_default();
    println!("cargo:rustc-env=BRAINGAP_BUILD_PROFILE={profile} (opt-level {opt_level})");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
    println!("cargo:rerun-if-changed=build.rs");
}
