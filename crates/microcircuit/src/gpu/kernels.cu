// braingap: the Potjans-Diesmann microcircuit on an NVIDIA GPU (crates/microcircuit/src/gpu/mod.rs
// describes the algorithm and its layout; gpu/emulate.rs runs the same steps on the host).
// Compiled at run time by NVRTC with --fmad=false, so that each multiply and each add rounds as
// the CPU's do: the spikes are then the CPU's, bit for bit.

// update: one thread per neuron. Reads and clears its two cells of ring slot `step mod slots`,
// does iaf_psc_exp::update (crate::neuron::step, NEST's order), and appends a spike to this
// step's list and to the record buffer (id, step).
// prop: p22, p21ex, p21in, p20, p11ex, p11in, theta, v_reset.
extern "C" __global__ void update(unsigned int n, unsigned long long step, unsigned int slots,
                                  const unsigned int *__restrict__ pop_start, // 9 entries
                                  const double *__restrict__ i_e,             // 8 entries
                                  const double *__restrict__ prop,            // 8 entries
                                  unsigned int ref_counts, double *__restrict__ v,
                                  double *__restrict__ i_ex, double *__restrict__ i_in,
                                  unsigned int *__restrict__ r_ref, double *__restrict__ ring,
                                  unsigned int *__restrict__ spikes,
                                  unsigned int *__restrict__ spike_count,
                                  unsigned int *__restrict__ record,
                                  unsigned long long *__restrict__ record_count,
                                  unsigned long long record_capacity) {
  unsigned int id = blockIdx.x * blockDim.x + threadIdx.x;
  if (id >= n) {
    return;
  }
  unsigned int slot = (unsigned int)(step % (unsigned long long)slots);
  unsigned long long ex = (unsigned long long)slot * 2 * n + id;
  unsigned long long in = ex + n;
  double in_ex = ring[ex];
  double in_in = ring[in];
  ring[ex] = 0.0;
  ring[in] = 0.0;
  int pop = 0;
  while (pop < 7 && id >= pop_start[pop + 1]) {
    pop++;
  }
  double vv = v[id];
  double ie = i_ex[id];
  double ii = i_in[id];
  unsigned int r = r_ref[id];
  if (r == 0) {
    vv = vv * prop[0] + ie * prop[1] + ii * prop[2] + i_e[pop] * prop[3];
  } else {
    r -= 1;
  }
  ie = ie * prop[4];
  ie = ie + in_ex;
  ii = ii * prop[5];
  ii = ii + in_in;
  bool spike = vv >= prop[6];
  if (spike) {
    r = ref_counts;
    vv = prop[7];
  }
  v[id] = vv;
  i_ex[id] = ie;
  i_in[id] = ii;
  r_ref[id] = r;
  if (spike) {
    unsigned int k = atomicAdd(spike_count, 1u);
    spikes[k] = id;
    unsigned long long j = atomicAdd(record_count, 1ull);
    if (j < record_capacity) {
      record[2 * j] = id;
      record[2 * j + 1] = (unsigned int)step;
    }
  }
}

// deliver: one warp per spike of this step's list (warps stride over the list). The lanes walk
// the source's outgoing row and add each weight, as f64, into the cell of its arrival slot
// ((step + delay) mod slots), channel by the weight's sign. Sums of these f32 weights in f64
// are exact, so the atomics' order does not matter. Zeroes the other list's counter, which the
// next step's update fills (nothing reads it during this step).
extern "C" __global__ void deliver(unsigned int n, unsigned long long step, unsigned int slots,
                                   const unsigned long long *__restrict__ row_start,
                                   const unsigned long long *__restrict__ words,
                                   const unsigned int *__restrict__ spikes,
                                   const unsigned int *__restrict__ spike_count,
                                   unsigned int *__restrict__ next_count,
                                   double *__restrict__ ring) {
  unsigned int lane = threadIdx.x & 31u;
  unsigned int warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  unsigned int warps = (gridDim.x * blockDim.x) >> 5;
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    *next_count = 0;
  }
  unsigned int count = *spike_count;
  for (unsigned int k = warp; k < count; k += warps) {
    unsigned int src = spikes[k];
    unsigned long long a = row_start[src];
    unsigned long long z = row_start[src + 1];
    for (unsigned long long i = a + lane; i < z; i += 32) {
      unsigned long long w = words[i];
      unsigned int hi = (unsigned int)(w >> 32);
      unsigned int target = hi >> 8;
      unsigned int delay = hi & 255u;
      float weight = __uint_as_float((unsigned int)(w & 0xffffffffull));
      unsigned int channel = weight < 0.0f ? 1u : 0u;
      unsigned int slot = (unsigned int)((step + delay) % (unsigned long long)slots);
      atomicAdd(&ring[((unsigned long long)slot * 2 + channel) * n + target], (double)weight);
    }
  }
}
