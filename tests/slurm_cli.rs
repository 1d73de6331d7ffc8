//! The MPI collectives as a real SLURM job: `sbatch --wait` on the one-node SLURM that
//! `scripts/setup-slurm.sh` starts (slurmctld, slurmd and munge from Debian's packages), two
//! tasks launched by `srun --mpi=pmix`, then `braingap runs` must list the job as one run
//! with its SLURM job id and node. Needs feature `mpi` and a running SLURM, hence ignored by
//! default; `scripts/test.sh` starts SLURM and runs it with `--ignored`.

#![cfg(feature = "mpi")]

mod common;

use common::{braingap, run_dirs};
use std::path::Path;
use std::process::Command;

/// SLURM's client environment: the config setup-slurm.sh wrote, unless one is set already.
fn slurm_command(program: &str) -> Command {
    let mut cmd = Command::new(program);
    if std::env::var_os("SLURM_CONF").is_none() {
        let dir = std::env::var("BRAINGAP_SLURM_DIR").unwrap_or_else(|_| "/var/lib/braingap-slurm".into());
        cmd.env("SLURM_CONF", Path::new(&dir).join("slurm.conf"));
    }
    cmd
}

#[test]
#[ignore = "needs a running SLURM: bash scripts/setup-slurm.sh, then cargo test --features mpi --test slurm_cli -- --ignored"]
fn a_two_task_sbatch_job_is_one_run_with_its_job_id_and_node() {
    let sinfo = slurm_command("sinfo")
        .args(["-h", "-o", "%T %N"])
        .output()
        .expect("sinfo runs (bash scripts/setup-slurm.sh installs and starts SLURM)");
    let nodes = String::from_utf8_lossy(&sinfo.stdout).to_string();
    assert!(
        sinfo.status.success() && nodes.contains("idle"),
        "no idle SLURM node (sinfo: {nodes:?}, {}); run bash scripts/setup-slurm.sh",
        String::from_utf8_lossy(&sinfo.stderr)
    );
    let node = nodes.split_whitespace().nth(1).unwrap().to_string();

    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let script = tmp.path().join("collectives.sbatch");
    std::fs::write(
        &script,
        format!(
            "#!/bin/bash\n\
             #SBATCH --job-name=braingap-slurm-test\n\
             #SBATCH --ntasks=2\n\
             #SBATCH --time=00:10:00\n\
             #SBATCH --output={out}\n\
             # A correctness test: the two ranks may share one core (e.g. under taskset), where\n\
             # Open MPI's busy polling turns each call into a scheduler time slice.\n\
             export OMPI_MCA_mpi_yield_when_idle=1\n\
             srun --mpi=pmix {bin} run --suite collectives --max-message 64KiB --samples 3 \\\n  \
             --results {results} --no-report\n",
            out = tmp.path().join("job-%j.out").display(),
            bin = env!("CARGO_BIN_EXE_braingap"),
            results = results.display(),
        ),
    )
    .unwrap();
    let submitted = slurm_command("sbatch")
        .args(["--wait", "--parsable"])
        .arg(&script)
        .current_dir(tmp.path())
        .output()
        .expect("sbatch runs");
    let job_id = String::from_utf8_lossy(&submitted.stdout)
        .trim()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let log = std::fs::read_to_string(tmp.path().join(format!("job-{job_id}.out"))).unwrap_or_default();
    assert!(
        submitted.status.success(),
        "job {job_id} failed: {}\n{log}",
        String::from_utf8_lossy(&submitted.stderr)
    );
    assert!(job_id.parse::<u64>().is_ok(), "sbatch --parsable printed {job_id:?}");

    // One run, merged by rank 0, with both ranks and the job's placement.
    let dirs = run_dirs(&results);
    assert_eq!(dirs.len(), 1, "one run for the job: {dirs:?}\n{log}");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dirs[0].join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["status"], "complete", "{log}");
    assert_eq!(meta["distributed"]["world_size"], 2);
    assert_eq!(meta["distributed"]["nodes"], serde_json::json!([node.clone()]));
    let placements = meta["distributed"]["placements"].as_array().unwrap();
    assert_eq!(placements.len(), 2);
    for (rank, placement) in placements.iter().enumerate() {
        assert_eq!(placement[0], rank);
        let slurm = &placement[1]["slurm"];
        assert_eq!(slurm["job_id"], job_id.as_str());
        assert_eq!(slurm["job_name"], "braingap-slurm-test");
        assert_eq!(slurm["proc_id"], rank, "SLURM_PROCID is the MPI rank");
        assert_eq!(slurm["node_id"], 0);
        assert_eq!(slurm["ntasks"], 2);
    }
    let (header, rows) = common::read_csv(&dirs[0].join("collectives.csv"));
    assert!(!rows.is_empty());
    for row in &rows {
        assert_eq!(common::cell(&header, row, "status"), "ok");
        assert_eq!(common::cell(&header, row, "ranks_reported"), "2");
    }

    let listed = braingap().args(["runs", "--results"]).arg(&results).output().unwrap();
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.status.success());
    assert!(
        text.contains(&format!("2 ranks on 1 node(s): {node}")) && text.contains(&format!("SLURM job {job_id}")),
        "braingap runs shows the job as one run with its node and job id:\n{text}"
    );
    assert_eq!(
        text.matches(&format!("SLURM job {job_id}")).count(),
        1,
        "listed once:\n{text}"
    );
}
