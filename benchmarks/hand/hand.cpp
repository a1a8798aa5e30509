// Hand-written train steps of the benchmark models, the "expert writes it
// by hand" bound for benchmarks/train_steps.py: OpenBLAS sgemm (sgemv for
// the logistic regression's matrix-vector products) with transpose flags
// instead of copies, SGD fused into the weight-gradient sgemm (beta = 1,
// alpha = -lr), backward derived by hand, and one fused loop per
// elementwise stage. Also measures the machine's sgemm rate.
//
//   g++ -O3 -march=native -fopenmp hand.cpp -o hand \
//       -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas
//   hand MODEL WORKDIR STEPS THREADS      MODEL: A, B, C or D
//   hand sgemm N REPS THREADS
//
// Data are raw little-endian float32 files WORKDIR/<name>.bin written by
// train_steps.py. Prints one JSON line: the median step time, the losses
// of the first three steps.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using Clock = std::chrono::steady_clock;

std::vector<float> load(const std::string &work, const char *name,
                        size_t count) {
  std::string path = work + "/" + name + ".bin";
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    std::fprintf(stderr, "hand: cannot open %s\n", path.c_str());
    std::exit(1);
  }
  std::vector<float> v(count);
  size_t got = std::fread(v.data(), sizeof(float), count, f);
  bool extra = std::fgetc(f) != EOF;
  std::fclose(f);
  if (got != count || extra) {
    std::fprintf(stderr, "hand: %s does not hold %zu floats\n", path.c_str(),
                 count);
    std::exit(1);
  }
  return v;
}

// Number of threads for the elementwise loops (OpenMP); sgemm uses
// OpenBLAS's own pool.
int loopThreads = 1;

// Softmax cross-entropy over rows of `classes` logits (bias b added here):
// returns the mean loss, leaves d(loss)/d(logits) in `logits`.
float softmaxXent(float *logits, const float *b, const float *labels,
                  int rows, int classes) {
  float total = 0;
  const float inv = 1.0f / rows;
  for (int r = 0; r < rows; ++r) {
    float *l = logits + (size_t)r * classes;
    const float *y = labels + (size_t)r * classes;
    float mx = -INFINITY;
    for (int c = 0; c < classes; ++c) {
      l[c] += b[c];
      mx = std::max(mx, l[c]);
    }
    float s = 0;
    for (int c = 0; c < classes; ++c) {
      l[c] = std::exp(l[c] - mx); // stays shifted exp until the end
      s += l[c];
    }
    float lse = std::log(s), is = 1.0f / s;
    for (int c = 0; c < classes; ++c) {
      // log p = (logit - max) - lse = log(e) - lse
      total += y[c] * (std::log(l[c]) - lse);
      l[c] = (l[c] * is - y[c]) * inv;
    }
  }
  return -total * inv;
}

// pre = pre + b per row, then ReLU in place.
void biasRelu(float *pre, const float *b, int rows, int cols) {
#pragma omp parallel for num_threads(loopThreads) if (loopThreads > 1)
  for (int r = 0; r < rows; ++r) {
    float *p = pre + (size_t)r * cols;
    for (int c = 0; c < cols; ++c)
      p[c] = std::max(p[c] + b[c], 0.0f);
  }
}

// d *= (h > 0) in place (h is the ReLU output).
void reluMask(float *d, const float *h, size_t n) {
#pragma omp parallel for num_threads(loopThreads) if (loopThreads > 1)
  for (size_t i = 0; i < n; ++i)
    d[i] = h[i] > 0 ? d[i] : 0.0f;
}

// out[c] = sum over rows of d[r, c].
void colSum(const float *d, int rows, int cols, float *out) {
  std::fill(out, out + cols, 0.0f);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      out[c] += d[(size_t)r * cols + c];
}

// b -= lr * colsum(d)
void biasSgd(float *b, const float *d, int rows, int cols, float lr,
             float *tmp) {
  colSum(d, rows, cols, tmp);
  for (int c = 0; c < cols; ++c)
    b[c] -= lr * tmp[c];
}

// Adam as #tape.adam lowers it (Keras' formula, epsilon outside the
// square root of the uncorrected v):
//   m += (g - m)(1 - beta1); v += (g*g - v)(1 - beta2);
//   w -= m * alpha / (sqrt(v) + eps), alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t)
struct Adam {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-7f;
  long t = 0;
  float alpha = 0;
  void begin() {
    float tf = (float)(++t);
    alpha = lr * std::sqrt(1.0f - std::pow(beta2, tf)) /
            (1.0f - std::pow(beta1, tf));
  }
  void update(float *w, float *m, float *v, const float *g, size_t n) const {
    const float c1 = 1.0f - beta1, c2 = 1.0f - beta2, a = alpha, e = eps;
#pragma omp parallel for num_threads(loopThreads) if (loopThreads > 1 && n > 4096)
    for (size_t i = 0; i < n; ++i) {
      float gi = g[i];
      float mi = m[i] + (gi - m[i]) * c1;
      float vi = v[i] + (gi * gi - v[i]) * c2;
      m[i] = mi;
      v[i] = vi;
      w[i] -= mi * a / (std::sqrt(vi) + e);
    }
  }
};

template <typename Step>
void timeSteps(long steps, Step step) {
  std::vector<double> times;
  std::vector<float> losses;
  times.reserve(steps);
  for (long k = 0; k < steps; ++k) {
    auto t0 = Clock::now();
    float loss = step(k);
    auto t1 = Clock::now();
    times.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    if (losses.size() < 3)
      losses.push_back(loss);
  }
  std::sort(times.begin(), times.end());
  std::printf("{\"median_us\": %.4f, \"min_us\": %.4f, \"losses\": [",
              times[times.size() / 2], times[0]);
  for (size_t i = 0; i < losses.size(); ++i)
    std::printf("%s%.9g", i ? ", " : "", losses[i]);
  std::printf("]}\n");
}

// A: the seed's neuron, plain scalar code.
void modelA(long steps) {
  float w = 1, b = 0;
  const float x = 2, y = 3, lr = 0.01f;
  timeSteps(steps, [&](long) {
    float d = x * w + b - y;
    float loss = d * d;
    float g = 2 * d;
    w -= lr * (g * x);
    b -= lr * g;
    asm volatile("" : "+x"(w), "+x"(b), "+x"(loss)); // keep each step
    return loss;
  });
}

// B: 784-256-10, batch 64, SGD 0.1.
void modelB(const std::string &work, long steps) {
  const int N = 64, I = 784, H = 256, O = 10, rows = 640;
  auto x = load(work, "x", (size_t)rows * I);
  auto lab = load(work, "labels", (size_t)rows * O);
  auto w1 = load(work, "w1", (size_t)I * H), b1 = load(work, "b1", H);
  auto w2 = load(work, "w2", (size_t)H * O), b2 = load(work, "b2", O);
  std::vector<float> h(N * H), logits(N * O), dh(N * H), tmp(H);
  const float lr = 0.1f;
  const int nb = rows / N;
  timeSteps(steps, [&](long k) {
    const float *xb = x.data() + (size_t)(k % nb) * N * I;
    const float *yb = lab.data() + (size_t)(k % nb) * N * O;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, H, I, 1.0f, xb,
                I, w1.data(), H, 0.0f, h.data(), H);
    biasRelu(h.data(), b1.data(), N, H);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, O, H, 1.0f,
                h.data(), H, w2.data(), O, 0.0f, logits.data(), O);
    float loss = softmaxXent(logits.data(), b2.data(), yb, N, O);
    // dh = dlogits w2^T (before w2 changes), then w2 -= lr h^T dlogits.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, H, O, 1.0f,
                logits.data(), O, w2.data(), O, 0.0f, dh.data(), H);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, O, N, -lr,
                h.data(), H, logits.data(), O, 1.0f, w2.data(), O);
    biasSgd(b2.data(), logits.data(), N, O, lr, tmp.data());
    reluMask(dh.data(), h.data(), (size_t)N * H);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, I, H, N, -lr, xb, I,
                dh.data(), H, 1.0f, w1.data(), H);
    biasSgd(b1.data(), dh.data(), N, H, lr, tmp.data());
    return loss;
  });
}

// C: 784-1024-1024-10, batch 256, Adam 1e-3.
void modelC(const std::string &work, long steps) {
  const int N = 256, I = 784, H = 1024, O = 10, rows = 1024;
  auto x = load(work, "x", (size_t)rows * I);
  auto lab = load(work, "labels", (size_t)rows * O);
  auto w1 = load(work, "w1", (size_t)I * H), b1 = load(work, "b1", H);
  auto w2 = load(work, "w2", (size_t)H * H), b2 = load(work, "b2", H);
  auto w3 = load(work, "w3", (size_t)H * O), b3 = load(work, "b3", O);
  struct Slot {
    std::vector<float> m, v, g;
    explicit Slot(size_t n) : m(n), v(n), g(n) {}
  };
  Slot s1(w1.size()), sb1(H), s2(w2.size()), sb2(H), s3(w3.size()), sb3(O);
  std::vector<float> h1((size_t)N * H), h2((size_t)N * H), logits(N * O),
      d2((size_t)N * H), d1((size_t)N * H);
  Adam adam;
  const int nb = rows / N;
  timeSteps(steps, [&](long k) {
    const float *xb = x.data() + (size_t)(k % nb) * N * I;
    const float *yb = lab.data() + (size_t)(k % nb) * N * O;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, H, I, 1.0f, xb,
                I, w1.data(), H, 0.0f, h1.data(), H);
    biasRelu(h1.data(), b1.data(), N, H);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, H, H, 1.0f,
                h1.data(), H, w2.data(), H, 0.0f, h2.data(), H);
    biasRelu(h2.data(), b2.data(), N, H);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, O, H, 1.0f,
                h2.data(), H, w3.data(), O, 0.0f, logits.data(), O);
    float loss = softmaxXent(logits.data(), b3.data(), yb, N, O);
    // Output layer.
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, O, N, 1.0f,
                h2.data(), H, logits.data(), O, 0.0f, s3.g.data(), O);
    colSum(logits.data(), N, O, sb3.g.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, H, O, 1.0f,
                logits.data(), O, w3.data(), O, 0.0f, d2.data(), H);
    reluMask(d2.data(), h2.data(), d2.size());
    // Second hidden layer.
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, H, N, 1.0f,
                h1.data(), H, d2.data(), H, 0.0f, s2.g.data(), H);
    colSum(d2.data(), N, H, sb2.g.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, H, H, 1.0f,
                d2.data(), H, w2.data(), H, 0.0f, d1.data(), H);
    reluMask(d1.data(), h1.data(), d1.size());
    // First hidden layer (no input gradient).
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, I, H, N, 1.0f, xb, I,
                d1.data(), H, 0.0f, s1.g.data(), H);
    colSum(d1.data(), N, H, sb1.g.data());
    adam.begin();
    adam.update(w1.data(), s1.m.data(), s1.v.data(), s1.g.data(), w1.size());
    adam.update(b1.data(), sb1.m.data(), sb1.v.data(), sb1.g.data(), H);
    adam.update(w2.data(), s2.m.data(), s2.v.data(), s2.g.data(), w2.size());
    adam.update(b2.data(), sb2.m.data(), sb2.v.data(), sb2.g.data(), H);
    adam.update(w3.data(), s3.m.data(), s3.v.data(), s3.g.data(), w3.size());
    adam.update(b3.data(), sb3.m.data(), sb3.v.data(), sb3.g.data(), O);
    return loss;
  });
}

// D: logistic regression, 1000 features, batch 1024, SGD 0.1.
void modelD(const std::string &work, long steps) {
  const int N = 1024, F = 1000;
  auto x = load(work, "x", (size_t)N * F), y = load(work, "y", N);
  auto w = load(work, "w", F), b = load(work, "b", 1);
  std::vector<float> z(N);
  const float lr = 0.1f, inv = 1.0f / N;
  timeSteps(steps, [&](long) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, N, F, 1.0f, x.data(), F,
                w.data(), 1, 0.0f, z.data(), 1);
    float total = 0, db = 0;
    for (int i = 0; i < N; ++i) {
      float zi = z[i] + b[0];
      float e = std::exp(-std::fabs(zi));
      total += std::max(zi, 0.0f) - y[i] * zi + std::log1p(e);
      // sigmoid(z) from e = exp(-|z|), without overflow.
      float sig = zi >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
      z[i] = (sig - y[i]) * inv;
      db += z[i];
    }
    cblas_sgemv(CblasRowMajor, CblasTrans, N, F, -lr, x.data(), F, z.data(),
                1, 1.0f, w.data(), 1);
    b[0] -= lr * db;
    return total * inv;
  });
}

void sgemmRate(int n, int reps) {
  std::vector<float> a((size_t)n * n), b((size_t)n * n), c((size_t)n * n);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    b[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
  }
  std::vector<double> times;
  for (int r = 0; r < reps + 2; ++r) {
    auto t0 = Clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f,
                a.data(), n, b.data(), n, 0.0f, c.data(), n);
    auto t1 = Clock::now();
    if (r >= 2) // two warm-up calls
      times.push_back(std::chrono::duration<double>(t1 - t0).count());
  }
  std::sort(times.begin(), times.end());
  double med = times[times.size() / 2];
  std::printf("{\"median_us\": %.3f, \"gflops\": %.3f, \"best_gflops\": %.3f, "
              "\"config\": \"%s\"}\n",
              med * 1e6, 2.0 * n * n * n / med * 1e-9,
              2.0 * n * n * n / times[0] * 1e-9, openblas_get_config());
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s A|B|C|D WORKDIR STEPS THREADS\n"
                         "       %s sgemm N REPS THREADS\n",
                 argv[0], argv[0]);
    return 2;
  }
  std::string model = argv[1];
  int threads = std::atoi(argv[4]);
  openblas_set_num_threads(threads);
  loopThreads = threads;
  if (model == "sgemm") {
    sgemmRate(std::atoi(argv[2]), std::atoi(argv[3]));
    return 0;
  }
  long steps = std::atol(argv[3]);
  if (steps < 1) {
    std::fprintf(stderr, "hand: STEPS must be at least 1\n");
    return 2;
  }
  if (model == "A")
    modelA(steps);
  else if (model == "B")
    modelB(argv[2], steps);
  else if (model == "C")
    modelC(argv[2], steps);
  else if (model == "D")
    modelD(argv[2], steps);
  else {
    std::fprintf(stderr, "hand: unknown model %s\n", model.c_str());
    return 2;
  }
  return 0;
}
