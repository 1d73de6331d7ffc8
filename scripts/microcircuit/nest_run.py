#!/usr/bin/env python3
"""Run the reference NEST implementation of the Potjans & Diesmann (2014) microcircuit.

Uses the `microcircuit` 1.0 package (INM-6/microcircuit-PD14-model, PyNEST) unchanged: its
`Network` class and its default parameter dictionaries (network_params, sim_params,
stimulus_params), as its README and example do, with these overrides only:

  N_scaling, K_scaling        --scale, --k-scale
  bg_input_type               --input dc|poisson (the package default is dc)
  t_presim, t_sim             --t-presim-ms, --t-sim-ms
  local_num_threads, rng_seed --threads, --seed
  print_time, store_metadata  off (no progress bar, no pip freeze into the data path)
  data_path                   DIR/nest-data/ (the package writes population_nodeids.dat there)

and its per-population spike recorders switched from ASCII files to memory
(record_to = "memory") with start = t_presim, so only spikes of the timed simulation are kept
and nothing large is written outside DIR. Writes to DIR:

  spikes.csv       population,neuron,time_ms   (neuron: 0-based index within the population;
                   time_ms: relative to the end of the warm-up, in (0, t_sim])
  populations.csv  population,neurons
  timing.json      phases (time.perf_counter), peak RSS, counts; see README in
                   docs/microcircuit-nest.md

Run inside .venv-nest (scripts/setup-nest.sh).
"""

import argparse
import copy
import json
import os
import resource
import sys
import time

os.environ.setdefault("PYNEST_QUIET", "1")

POPULATIONS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scale", type=float, default=0.1, help="N_scaling (default 0.1)")
    p.add_argument("--k-scale", type=float, default=1.0, help="K_scaling (default 1)")
    p.add_argument("--t-sim-ms", type=float, default=1000.0, help="timed simulation (default 1000)")
    p.add_argument("--t-presim-ms", type=float, default=500.0,
                   help="warm-up before the timed simulation, spikes not kept (default 500)")
    p.add_argument("--threads", type=int, default=1, help="NEST local_num_threads (default 1)")
    p.add_argument("--seed", type=int, default=55, help="NEST rng_seed (default 55, the package's)")
    p.add_argument("--input", choices=["dc", "poisson"], default="dc",
                   help="background input: dc (package default) or poisson")
    p.add_argument("--out", required=True, help="output directory (created)")
    a = p.parse_args(argv)
    if not (a.scale > 0 and a.k_scale > 0 and a.t_sim_ms > 0 and a.t_presim_ms >= 0):
        p.error("--scale and --k-scale must be > 0, --t-sim-ms > 0, --t-presim-ms >= 0")
    if a.threads < 1:
        p.error("--threads must be >= 1")
    if a.seed < 1:
        p.error("--seed must be >= 1 (NEST rng_seed range)")
    return a


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out = os.path.abspath(args.out)
    data_path = os.path.join(out, "nest-data") + "/"
    os.makedirs(out, exist_ok=True)

    import nest
    import numpy as np
    from microcircuit.network import Network
    from microcircuit.network_params import default_net_dict
    from microcircuit.sim_params import default_sim_dict
    from microcircuit.stimulus_params import default_stim_dict

    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.WARNING
    else:
        nest.set_verbosity("M_WARNING")
    load_start = os.getloadavg()
    net_dict = copy.deepcopy(default_net_dict)
    sim_dict = copy.deepcopy(default_sim_dict)
    stim_dict = copy.deepcopy(default_stim_dict)
    assert list(net_dict["populations"]) == POPULATIONS, net_dict["populations"]

    net_dict["N_scaling"] = args.scale
    net_dict["K_scaling"] = args.k_scale
    net_dict["bg_input_type"] = args.input
    sim_dict.update(
        t_presim=args.t_presim_ms,
        t_sim=args.t_sim_ms,
        local_num_threads=args.threads,
        rng_seed=args.seed,
        data_path=data_path,
        rec_dev=["spike_recorder"],
        print_time=False,
        store_metadata=False,
        overwrite_files=True,
    )

    t0 = time.perf_counter()
    net = Network(sim_dict, net_dict, stim_dict)  # derives parameters, ResetKernel, threads, seed
    t1 = time.perf_counter()
    # NEST 3.10 stores a thread's connections per synapse model in arrays of at most
    # 134217726 entries; the full-scale model (~3e8 synapses) needs >= 3 threads
    per_vp_limit = 134217726
    total = int(np.sum(net.num_synapses)) + 2 * int(np.sum(net.num_neurons))
    need = int(np.ceil(total * 1.02 / per_vp_limit))
    if args.threads < need:
        print(f"nest_run: {total} connections need at least {need} threads in NEST "
              f"(at most {per_vp_limit} per thread and synapse model); got --threads {args.threads}",
              file=sys.stderr)
        return 2
    net.create()  # neurons, spike recorders, (Poisson generators)
    # memory recording, only after the warm-up: (t_presim, t_presim + t_sim]
    net.spike_recorders.set(record_to="memory", start=args.t_presim_ms)
    t2 = time.perf_counter()
    net.connect()  # recurrent + device connections, then nest.Prepare/Cleanup (the package's)
    t3 = time.perf_counter()
    if args.t_presim_ms > 0:
        net.simulate(args.t_presim_ms)
    t4 = time.perf_counter()
    ru4 = resource.getrusage(resource.RUSAGE_SELF)
    net.simulate(args.t_sim_ms)
    t5 = time.perf_counter()
    ru5 = resource.getrusage(resource.RUSAGE_SELF)

    sizes = [len(p) for p in net.pops]
    n_neurons = int(sum(sizes))
    # connections made by devices: each neuron -> its population's spike recorder, and each
    # Poisson generator -> every neuron of its population (bg_input_type poisson)
    device_conns = n_neurons * (2 if args.input == "poisson" else 1)
    num_connections = int(nest.GetKernelStatus("num_connections"))
    synapses = num_connections - device_conns
    expected = int(np.sum(net.num_synapses))  # fixed_total_number: exactly these many
    if synapses != expected:
        print(f"nest_run: warning: {synapses} recurrent connections counted, "
              f"{expected} expected from the connection rule", file=sys.stderr)

    rows_pop, rows_neuron, rows_time = [], [], []
    spikes_per_pop = []
    for i, pop in enumerate(net.pops):
        ev = net.spike_recorders[i].get("events")
        senders = np.asarray(ev["senders"], dtype=np.int64)
        times = np.asarray(ev["times"], dtype=np.float64) - args.t_presim_ms
        first = pop[0].global_id
        idx = senders - first
        assert idx.size == 0 or (idx.min() >= 0 and idx.max() < sizes[i])
        order = np.lexsort((idx, times))
        rows_pop.append(np.full(idx.size, i, dtype=np.int64))
        rows_neuron.append(idx[order])
        rows_time.append(times[order])
        spikes_per_pop.append(int(idx.size))
    pop_col = np.concatenate(rows_pop)
    neuron_col = np.concatenate(rows_neuron)
    time_col = np.concatenate(rows_time)

    with open(os.path.join(out, "spikes.csv"), "w") as f:
        f.write("population,neuron,time_ms\n")
        names = np.array(POPULATIONS)
        for name, n, t in zip(names[pop_col], neuron_col, time_col):
            f.write(f"{name},{n},{t:.3f}\n")
    with open(os.path.join(out, "populations.csv"), "w") as f:
        f.write("population,neurons\n")
        for name, n in zip(POPULATIONS, sizes):
            f.write(f"{name},{n}\n")

    # synaptic events: spikes x out-degree, with each population's mean out-degree
    # (its outgoing recurrent synapses / its size); exact in expectation, cheap
    out_syn = np.sum(net.num_synapses, axis=0)  # [target][source] -> per source population
    events = float(sum(spikes_per_pop[j] * out_syn[j] / sizes[j] for j in range(len(sizes))))

    simulate_s = t5 - t4
    ru = resource.getrusage(resource.RUSAGE_SELF)
    timing = {
        "simulator": "nest",
        "version": nest.__version__,
        "model": "microcircuit 1.0 (INM-6/microcircuit-PD14-model PyNEST)",
        "scale": args.scale,
        "k_scale": args.k_scale,
        "input": args.input,
        "seed": args.seed,
        "threads": int(nest.local_num_threads),
        "t_sim_ms": args.t_sim_ms,
        "t_presim_ms": args.t_presim_ms,
        "resolution_ms": float(nest.resolution),
        "init_s": t1 - t0,
        "build_s": t2 - t1,
        "connect_s": t3 - t2,
        "presim_s": t4 - t3,
        "simulate_s": simulate_s,
        "rtf": simulate_s / (args.t_sim_ms / 1000.0),
        # CPU seconds of this process during the timed simulation: with T threads on an idle
        # machine about T x simulate_s; much less means the cores were shared
        "simulate_cpu_s": (ru5.ru_utime + ru5.ru_stime) - (ru4.ru_utime + ru4.ru_stime),
        "peak_rss_bytes": ru.ru_maxrss * 1024,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "loadavg_1min_start": load_start[0],
        "loadavg_1min_end": os.getloadavg()[0],
        "cpus": os.cpu_count(),
        "neurons": n_neurons,
        "synapses": synapses,
        "synapses_expected": expected,
        "spikes": int(sum(spikes_per_pop)),
        "spikes_per_population": dict(zip(POPULATIONS, spikes_per_pop)),
        "synaptic_events": events,
        "synaptic_events_method": "sum over populations of spikes x mean recurrent out-degree",
        "events_per_s": events / simulate_s if simulate_s > 0 else None,
    }
    with open(os.path.join(out, "timing.json"), "w") as f:
        json.dump(timing, f, indent=2)
        f.write("\n")
    print(
        f"nest_run: scale {args.scale} k {args.k_scale} seed {args.seed} threads {timing['threads']}: "
        f"{n_neurons} neurons, {synapses} synapses, build {timing['build_s']:.2f} s, "
        f"connect {timing['connect_s']:.2f} s, presim {timing['presim_s']:.2f} s, "
        f"simulate {simulate_s:.2f} s (RTF {timing['rtf']:.2f}), {timing['spikes']} spikes, "
        f"peak RSS {timing['peak_rss_bytes'] / 2**20:.0f} MiB",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
