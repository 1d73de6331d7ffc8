//! Where a rank runs: host, rank and local rank from the launcher (mpirun's `OMPI_*`, or
//! SLURM's `SLURM_*`), and the SLURM job when there is one. Read from a lookup function so
//! tests set the environment without touching the process's own.

use serde::{Deserialize, Serialize};

/// The SLURM job a rank belongs to (from `SLURM_*` variables; absent outside SLURM).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlurmInfo {
    /// `SLURM_JOB_ID`.
    pub job_id: String,
    /// `SLURM_JOB_NAME`.
    pub job_name: Option<String>,
    /// `SLURM_STEP_ID`.
    pub step_id: Option<String>,
    /// `SLURM_PROCID`: the task's global rank.
    pub proc_id: Option<u64>,
    /// `SLURM_NODEID`: the node's index within the job.
    pub node_id: Option<u64>,
    /// `SLURM_LOCALID`: the task's index on its node.
    pub local_id: Option<u64>,
    /// `SLURM_NTASKS`.
    pub ntasks: Option<u64>,
    /// `SLURM_JOB_NUM_NODES` (or `SLURM_NNODES`).
    pub nodes: Option<u64>,
    /// `SLURM_JOB_NODELIST` (compressed, as SLURM writes it).
    pub nodelist: Option<String>,
    /// `SLURM_CLUSTER_NAME`.
    pub cluster: Option<String>,
}

/// One rank's placement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchInfo {
    /// Host name of the node the rank runs on.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// Rank on its node (`OMPI_COMM_WORLD_LOCAL_RANK`, else `SLURM_LOCALID`).
    pub local_rank: Option<u64>,
    /// Ranks on its node (`OMPI_COMM_WORLD_LOCAL_SIZE`, else `SLURM_NTASKS_PER_NODE`).
    pub local_size: Option<u64>,
    /// The SLURM job, when launched under SLURM.
    pub slurm: Option<SlurmInfo>,
}

impl LaunchInfo {
    /// Reads the placement through `var` (use [`LaunchInfo::from_process`] for the real
    /// environment). `host` is the node's host name.
    pub fn from_vars(var: &dyn Fn(&str) -> Option<String>, host: String, pid: u32) -> LaunchInfo {
        let number = |name: &str| var(name).and_then(|v| v.trim().parse::<u64>().ok());
        let slurm = var("SLURM_JOB_ID").filter(|v| !v.is_empty()).map(|job_id| SlurmInfo {
            job_id,
            job_name: var("SLURM_JOB_NAME"),
            step_id: var("SLURM_STEP_ID"),
            proc_id: number("SLURM_PROCID"),
            node_id: number("SLURM_NODEID"),
            local_id: number("SLURM_LOCALID"),
            ntasks: number("SLURM_NTASKS"),
            nodes: number("SLURM_JOB_NUM_NODES").or_else(|| number("SLURM_NNODES")),
            nodelist: var("SLURM_JOB_NODELIST").or_else(|| var("SLURM_NODELIST")),
            cluster: var("SLURM_CLUSTER_NAME"),
        });
        LaunchInfo {
            host,
            pid,
            local_rank: number("OMPI_COMM_WORLD_LOCAL_RANK").or_else(|| number("SLURM_LOCALID")),
            // SLURM_NTASKS_PER_NODE may read "2(x3)"; only a plain number is taken.
            local_size: number("OMPI_COMM_WORLD_LOCAL_SIZE").or_else(|| number("SLURM_NTASKS_PER_NODE")),
            slurm,
        }
    }

    /// The placement of this process.
    pub fn from_process() -> LaunchInfo {
        LaunchInfo::from_vars(&|name| std::env::var(name).ok(), hostname(), std::process::id())
    }
}

/// This machine's host name (`/proc/sys/kernel/hostname`, else `HOSTNAME`, else `unknown`).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn launch(vars: &[(&str, &str)]) -> LaunchInfo {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        LaunchInfo::from_vars(&|name| map.get(name).cloned(), "node07".into(), 42)
    }

    #[test]
    fn slurm_job_node_and_rank_are_read() {
        let info = launch(&[
            ("SLURM_JOB_ID", "123456"),
            ("SLURM_JOB_NAME", "braingap-collectives"),
            ("SLURM_PROCID", "5"),
            ("SLURM_NODEID", "1"),
            ("SLURM_LOCALID", "1"),
            ("SLURM_NTASKS", "8"),
            ("SLURM_JOB_NUM_NODES", "2"),
            ("SLURM_JOB_NODELIST", "node[06-07]"),
            ("SLURM_NTASKS_PER_NODE", "4(x2)"),
        ]);
        let slurm = info.slurm.expect("under SLURM");
        assert_eq!(slurm.job_id, "123456");
        assert_eq!(slurm.proc_id, Some(5));
        assert_eq!(slurm.node_id, Some(1));
        assert_eq!(slurm.ntasks, Some(8));
        assert_eq!(slurm.nodes, Some(2));
        assert_eq!(slurm.nodelist.as_deref(), Some("node[06-07]"));
        assert_eq!(info.local_rank, Some(1));
        assert_eq!(info.local_size, None, "a repeated count is not a plain number");
        assert_eq!(info.host, "node07");
    }

    #[test]
    fn mpirun_local_rank_wins_and_no_slurm_outside_a_job() {
        let info = launch(&[("OMPI_COMM_WORLD_LOCAL_RANK", "3"), ("OMPI_COMM_WORLD_LOCAL_SIZE", "4")]);
        assert_eq!(info.slurm, None);
        assert_eq!(info.local_rank, Some(3));
        assert_eq!(info.local_size, Some(4));
    }
}
