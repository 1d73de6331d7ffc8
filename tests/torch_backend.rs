//! The torch backend end to end (feature `torch`): `braingap run --backend torch` on small
//! sizes verifies every benchmark against the references and writes its rows; a CUDA device
//! that is not there is an error naming it, exit 2. Without the feature, asking for the
//! backend says how to get it.

mod common;

use common::braingap;
#[cfg(feature = "torch")]
use common::{cell, read_csv, run_dirs};
use predicates::str::contains;

#[cfg(feature = "torch")]
fn run_torch(filter: &str, profile: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    braingap()
        .args([
            "run",
            "--backend",
            "torch",
            "--device",
            "cpu",
            "--threads",
            "2",
            "--no-report",
        ])
        .args(["--profile", profile, "--filter", filter, "--no-ceilings"])
        .arg("--results")
        .arg(&results)
        .assert()
        .success();
    let runs = run_dirs(&results);
    assert_eq!(runs.len(), 1);
    read_csv(&runs[0].join("summary.csv"))
}

#[cfg(feature = "torch")]
#[test]
fn torch_kernels_verify_and_write_rows() {
    // Every kernel of the small profile that libtorch can express, f32 and f64.
    let (header, rows) = run_torch("^(stream|gemm|conv2d|spmv|lif|attention|activation)", "small");
    let kernels: std::collections::BTreeSet<&str> = rows.iter().map(|r| cell(&header, r, "kernel")).collect();
    for k in [
        "stream_copy",
        "stream_scale",
        "stream_add",
        "stream_triad",
        "gemm",
        "conv2d_nchw",
        "conv2d_nhwc",
        "spmv_synapses",
        "lif_step",
        "attention",
        "activation_relu",
        "activation_gelu",
    ] {
        assert!(kernels.contains(k), "{k} missing from {kernels:?}");
    }
    for row in &rows {
        assert_eq!(cell(&header, row, "backend"), "torch");
        assert_eq!(cell(&header, row, "status"), "ok", "{row:?}");
    }
}

#[cfg(feature = "torch")]
#[test]
fn torch_models_verify_and_write_rows() {
    let (header, rows) = run_torch("model_(mlp|lenet5)/f32/batch=(1|64),train", "models");
    assert!(rows.len() >= 4, "{rows:?}");
    for row in &rows {
        assert_eq!(cell(&header, row, "status"), "ok", "{row:?}");
        let detail = cell(&header, row, "verification");
        assert!(detail.contains("forward pass"), "{detail}");
        if cell(&header, row, "benchmark").contains("train=1") {
            assert!(detail.contains("lowered"), "{detail}");
        }
    }
}

#[cfg(feature = "torch")]
#[test]
fn torch_spiking_network_and_transformer_stack_verify() {
    let (header, rows) = run_torch(
        "model_(snn/f32/.*batch=(1|16),|transformer_stack/f32/.*train=1)",
        "models",
    );
    let names: Vec<&str> = rows.iter().map(|r| cell(&header, r, "benchmark")).collect();
    assert_eq!(rows.len(), 3, "{names:?}");
    for row in &rows {
        assert_eq!(cell(&header, row, "status"), "ok", "{row:?}");
        let name = cell(&header, row, "benchmark");
        let detail = cell(&header, row, "verification");
        assert!(detail.contains("forward pass"), "{detail}");
        if name.contains("train=1") {
            assert!(detail.contains("lowered"), "{name}: {detail}");
        } else {
            // Inference of the spiking network: events compared with the reference's.
            assert!(detail.contains("synaptic events, as the reference"), "{name}: {detail}");
        }
    }
}

#[cfg(feature = "torch")]
#[test]
fn torch_alexnet_verifies_inference_and_a_training_step() {
    let (header, rows) = run_torch("model_alexnet/f32/input=99,batch=(1|4),", "models");
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in &rows {
        assert_eq!(cell(&header, row, "status"), "ok", "{row:?}");
        let detail = cell(&header, row, "verification");
        assert!(detail.contains("forward pass"), "{detail}");
        if cell(&header, row, "benchmark").contains("train=1") {
            assert!(detail.contains("lowered"), "{detail}");
        }
    }
}

#[cfg(feature = "torch")]
#[test]
fn torch_lstm_language_model_verifies_inference_and_a_training_step() {
    let (header, rows) = run_torch("model_lstm/f32/.*batch=(1|8),", "models");
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in &rows {
        assert_eq!(cell(&header, row, "status"), "ok", "{row:?}");
        let detail = cell(&header, row, "verification");
        assert!(detail.contains("forward pass"), "{detail}");
        if cell(&header, row, "benchmark").contains("train=1") {
            assert!(detail.contains("lowered"), "{detail}");
        }
    }
}

#[cfg(feature = "torch")]
#[test]
fn missing_cuda_device_exits_2_naming_it() {
    if tch::Cuda::device_count() > 7 {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    braingap()
        .args([
            "run",
            "--backend",
            "torch",
            "--device",
            "cuda:7",
            "--filter",
            "^gemm",
            "--no-report",
        ])
        .arg("--results")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("cuda:7"));
}

#[cfg(not(feature = "torch"))]
#[test]
fn torch_backend_without_the_feature_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    braingap()
        .args(["run", "--backend", "torch", "--filter", "^gemm", "--no-report"])
        .arg("--results")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("--features torch"))
        .stderr(contains("setup-torch.sh"));
}

#[test]
fn cuda_device_needs_the_torch_backend() {
    let dir = tempfile::tempdir().unwrap();
    braingap()
        .args([
            "run",
            "--backend",
            "cpu",
            "--device",
            "cuda:0",
            "--filter",
            "^gemm",
            "--no-report",
        ])
        .arg("--results")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("--device cuda:0"));
}
