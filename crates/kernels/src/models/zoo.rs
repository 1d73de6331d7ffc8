//! The model zoo: each architecture's layer list, and the `models` profile's benchmarks.

use super::{Architecture, Layer, ModelBench, Nonlinearity};

impl Architecture {
    /// Registry kernel name.
    pub fn kernel_name(self) -> &'static str {
        match self {
            Architecture::Mlp => "model_mlp",
            Architecture::Lenet5 => "model_lenet5",
            Architecture::TransformerBlock { .. } => "model_transformer_block",
            Architecture::TransformerStack { .. } => "model_transformer_stack",
            Architecture::AlexNet { .. } => "model_alexnet",
            Architecture::LstmLm { .. } => "model_lstm",
            Architecture::Spiking { .. } => "model_snn",
        }
    }

    /// The layers, in order.
    pub fn layers(self) -> Vec<Layer> {
        match self {
            Architecture::Mlp => vec![
                Layer::Dense {
                    inputs: 784,
                    outputs: 300,
                },
                Layer::Act {
                    units: 300,
                    kind: Nonlinearity::Relu,
                },
                Layer::Dense {
                    inputs: 300,
                    outputs: 100,
                },
                Layer::Act {
                    units: 100,
                    kind: Nonlinearity::Relu,
                },
                Layer::Dense {
                    inputs: 100,
                    outputs: 10,
                },
            ],
            Architecture::Lenet5 => {
                let tanh = |units| Layer::Act {
                    units,
                    kind: Nonlinearity::Tanh,
                };
                vec![
                    Layer::Conv {
                        in_channels: 1,
                        out_channels: 6,
                        kernel: 5,
                        in_size: 32,
                        stride: 1,
                        padding: 0,
                    },
                    tanh(6 * 28 * 28),
                    Layer::AvgPool {
                        channels: 6,
                        in_size: 28,
                        window: 2,
                    },
                    Layer::Conv {
                        in_channels: 6,
                        out_channels: 16,
                        kernel: 5,
                        in_size: 14,
                        stride: 1,
                        padding: 0,
                    },
                    tanh(16 * 10 * 10),
                    Layer::AvgPool {
                        channels: 16,
                        in_size: 10,
                        window: 2,
                    },
                    Layer::Dense {
                        inputs: 400,
                        outputs: 120,
                    },
                    tanh(120),
                    Layer::Dense {
                        inputs: 120,
                        outputs: 84,
                    },
                    tanh(84),
                    Layer::Dense {
                        inputs: 84,
                        outputs: 10,
                    },
                ]
            }
            Architecture::TransformerBlock { seq_len } => vec![Layer::TransformerBlock {
                seq_len,
                width: 768,
                heads: 12,
            }],
            Architecture::TransformerStack { blocks, seq_len } => vec![
                Layer::TransformerBlock {
                    seq_len,
                    width: 768,
                    heads: 12,
                };
                blocks as usize
            ],
            Architecture::AlexNet { input } => alexnet(input),
            Architecture::LstmLm { vocab, hidden, seq_len } => vec![
                Layer::Embedding {
                    vocab,
                    width: hidden,
                    seq_len,
                },
                Layer::Lstm {
                    inputs: hidden,
                    hidden,
                    seq_len,
                },
                Layer::Lstm {
                    inputs: hidden,
                    hidden,
                    seq_len,
                },
                Layer::TokenDense {
                    inputs: hidden,
                    outputs: vocab,
                    tokens: seq_len,
                },
            ],
            Architecture::Spiking { hidden, steps } => vec![
                Layer::LifDense {
                    inputs: 784,
                    outputs: hidden,
                    steps,
                    spiking: true,
                },
                Layer::LifDense {
                    inputs: hidden,
                    outputs: 10,
                    steps,
                    spiking: false,
                },
                Layer::TimeMean { units: 10, steps },
            ],
        }
    }
}

/// AlexNet's layers on a square RGB input of side `input`.
fn alexnet(input: u64) -> Vec<Layer> {
    let mut layers = Vec::new();
    let (mut channels, mut side) = (3, input);
    let relu = |units| Layer::Act {
        units,
        kind: Nonlinearity::Relu,
    };
    let convs: [(u64, u64, u64, u64, bool); 5] = [
        (96, 11, 4, 0, true),
        (256, 5, 1, 2, true),
        (384, 3, 1, 1, false),
        (384, 3, 1, 1, false),
        (256, 3, 1, 1, true),
    ];
    for (out_channels, kernel, stride, padding, pool) in convs {
        let conv = Layer::Conv {
            in_channels: channels,
            out_channels,
            kernel,
            in_size: side,
            stride,
            padding,
        };
        side = (side + 2 * padding - kernel) / stride + 1;
        channels = out_channels;
        layers.push(conv);
        layers.push(relu(channels * side * side));
        if pool {
            layers.push(Layer::MaxPool {
                channels,
                in_size: side,
                window: 3,
                stride: 2,
            });
            side = (side - 3) / 2 + 1;
        }
    }
    let mut inputs = channels * side * side;
    for (i, outputs) in [4096, 4096, 1000].into_iter().enumerate() {
        layers.push(Layer::Dense { inputs, outputs });
        if i < 2 {
            layers.push(relu(outputs));
        }
        inputs = outputs;
    }
    layers
}

/// The `models` profile's benchmarks: each network at several batch sizes for inference and
/// at one for a training step. The transformer block runs a short sequence (128 tokens) and
/// the stack 2 blocks of 64 tokens, and AlexNet a 99×99 input (0.39 GFLOP forward per
/// sample) and the LSTM 32 tokens of a 1,000-word vocabulary, so a CPU finishes them in
/// seconds; the spiking network has 256 hidden LIF neurons over 8 steps.
pub fn registry() -> Vec<ModelBench> {
    let mut benches = Vec::new();
    for architecture in [Architecture::Mlp, Architecture::Lenet5] {
        for batch in [1, 64, 256] {
            benches.push(ModelBench {
                architecture,
                batch,
                train: false,
            });
        }
        benches.push(ModelBench {
            architecture,
            batch: 64,
            train: true,
        });
    }
    let block = Architecture::TransformerBlock { seq_len: 128 };
    for batch in [1, 4] {
        benches.push(ModelBench {
            architecture: block,
            batch,
            train: false,
        });
    }
    benches.push(ModelBench {
        architecture: block,
        batch: 1,
        train: true,
    });
    let stack = Architecture::TransformerStack { blocks: 2, seq_len: 64 };
    for train in [false, true] {
        benches.push(ModelBench {
            architecture: stack,
            batch: 1,
            train,
        });
    }
    let alexnet = Architecture::AlexNet { input: 99 };
    for (batch, train) in [(1, false), (8, false), (4, true)] {
        benches.push(ModelBench {
            architecture: alexnet,
            batch,
            train,
        });
    }
    let lstm = Architecture::LstmLm {
        vocab: 1000,
        hidden: 256,
        seq_len: 32,
    };
    for (batch, train) in [(1, false), (16, false), (8, true)] {
        benches.push(ModelBench {
            architecture: lstm,
            batch,
            train,
        });
    }
    let spiking = Architecture::Spiking { hidden: 256, steps: 8 };
    for batch in [1, 64] {
        benches.push(ModelBench {
            architecture: spiking,
            batch,
            train: false,
        });
    }
    benches.push(ModelBench {
        architecture: spiking,
        batch: 16,
        train: true,
    });
    benches
}
