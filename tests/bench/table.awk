# table.awk — the tables of `make bench` from the raw lines run.sh collects
# (results.txt: "KIND key=value ..." per line).  Figures only, no verdicts.

function val(key,   i, kv) {
  for (i = 2; i <= NF; i++)
    if (index($i, key "=") == 1)
      return substr($i, length(key) + 2)
  return ""
}
function num(x) { return x == "" ? "-" : x }
# nncc's rate for row key K of model M: characters/s for a token model (its
# sample is a window of seq[M] characters; torch_ref.py counts characters)
function rate(k, m) {
  if (!(m in seq)) return nsps[k]
  if (nchars[k] != "") return nchars[k]
  return nsps[k] == "" ? "" : nsps[k] * seq[m]
}
function fmt_sps(x) { return x == "" ? "-" : sprintf("%.0f", x) }
function blas_kind(path) {
  if (path ~ /openblas/) return "OpenBLAS"
  if (path ~ /\/blas\/libblas/) return "netlib reference BLAS"
  if (path ~ /blis/) return "BLIS"
  if (path ~ /mkl/) return "MKL"
  return "unknown BLAS"
}

NR == 1 { cpu = $0; next }
$1 == "load" { if (val("start") != "") load0 = val("start"); else load1 = val("end"); next }
$1 == "flops" {
  ftrain[val("model")] = val("train"); finfer[val("model")] = val("infer")
  if (val("vocab") + 0 > 0) seq[val("model")] = val("seq")
  next
}
$1 == "fma" {
  t = val("threads"); g = val("gflops") + 0
  nfma[t]++; fmas[t] = fmas[t] (fmas[t] == "" ? "" : ", ") g
  if (g > fma[t]) fma[t] = g
  next
}
$1 == "nncc" {
  k = val("model") ":" val("mode") ":" val("threads")
  nsps[k] = val("samples_per_s"); nus[k] = val("step_us"); nbatch[val("model") ":" val("mode")] = val("batch")
  nchars[k] = val("chars_per_s")
  next
}
$1 == "torch-info" { tinfo = $0; tblas = val("blas"); tcore = val("coretype"); tver = val("version"); next }
$1 == "torch-skip" { tskip = substr($0, 12); next }
$1 == "torch" {
  m = val("model"); mode = val("mode")
  sub(/-infer$/, "", m)
  k = m ":" mode ":" val("threads")
  tsps[k] = val("samples_per_s"); tus[k] = val("step_us"); tbatch[m ":" mode] = val("batch")
  next
}
$1 == "sgemm-built" { built[val("lib")] = 1; next }
$1 == "sgemm-missing" { built[val("lib")] = 0; next }
$1 == "sgemm" {
  lib = val("lib"); key = val("shape") " " val("m") "x" val("n") "x" val("k")
  if (!(key in seen)) { seen[key] = 1; shapes[++nshapes] = key }
  if (val("probe") == "openblas") {
    sg["ob:" key] = val("gflops"); obcore = val("core"); oblib = lib
  }
  else { sg["sys:" key] = val("gflops"); syslib = lib }
  next
}
$1 == "compile" { cm[++ncm] = val("model"); nms[val("model")] = val("nncc_ms"); ccms[val("model")] = val("cc_ms"); next }

END {
  nrow = split("mlp:train autoencoder:train xor:train iris:train lenet:train char_rnn:train " \
    "char_lstm:train char_gru:train mlp:infer mlp_b1:infer", rows, " ")
  print "== nncc bench: " cpu
  if (tinfo != "")
    printf "   PyTorch %s, %s (%s), OPENBLAS_CORETYPE=%s\n", tver, tblas, blas_kind(tblas), tcore
  else
    print "   PyTorch: skipped: " (tskip == "" ? "no output" : tskip)
  printf "   FMA loop (fp32, GFLOP/s, runs at start and end): 1 thread %s; 2 threads %s; best used below\n", \
    fmas[1], fmas[2]
  printf "   load average (1 min) at start %s, at end %s", load0, load1
  if (load0 + 0 > 0.5 || load1 + 0 > 1.5)
    printf ": the machine was busy, figures (2 threads most) are unreliable"
  printf "\n\n"

  print "== throughput (samples/s; medians of 3 runs; char models: characters/s)"
  printf "%-12s %-5s %5s %3s %12s %12s %9s %8s %7s\n", "model", "mode", "batch", "thr", \
    "nncc", "PyTorch", "nncc/PT", "GFLOP/s", "% FMA"
  for (r = 1; r <= nrow; r++) {
    split(rows[r], mm, ":")
    for (t = 1; t <= 2; t++) {
      k = rows[r] ":" t
      f = mm[2] == "train" ? ftrain[mm[1]] : finfer[mm[1]]
      # GFLOP/s from samples/s: f is per sample (a char model's: per window)
      gf = (nsps[k] != "" && f != "") ? nsps[k] * f / 1e9 : ""
      ns = rate(k, mm[1])
      printf "%-12s %-5s %5s %3d %12s %12s %9s %8s %7s\n", mm[1], mm[2], \
        num(nbatch[rows[r]] != "" ? nbatch[rows[r]] : tbatch[rows[r]]), t, fmt_sps(ns), \
        fmt_sps(tsps[k]), (ns != "" && tsps[k] > 0) ? sprintf("%.2fx", ns / tsps[k]) : "-", \
        gf == "" ? "-" : sprintf("%.1f", gf), (gf != "" && fma[t] > 0) ? sprintf("%.1f%%", 100 * gf / fma[t]) : "-"
    }
  }
  print ""

  print "== 1 -> 2 threads: speed-up"
  printf "%-12s %-5s %8s %8s\n", "model", "mode", "nncc", "PyTorch"
  for (r = 1; r <= nrow; r++) {
    k = rows[r]; split(k, mm, ":")
    printf "%-12s %-5s %8s %8s\n", mm[1], mm[2], \
      (nsps[k ":1"] > 0 && nsps[k ":2"] != "") ? sprintf("%.2fx", nsps[k ":2"] / nsps[k ":1"]) : "-", \
      (tsps[k ":1"] > 0 && tsps[k ":2"] != "") ? sprintf("%.2fx", tsps[k ":2"] / tsps[k ":1"]) : "-"
  }
  printf "%-18s %8s\n\n", "FMA loop", (fma[1] > 0 && fma[2] > 0) ? sprintf("%.2fx", fma[2] / fma[1]) : "-"

  print "== batch-1 inference (the mlp at batch 1): time per sample"
  printf "%3s %10s %12s %12s\n", "thr", "nncc us", "PyTorch us", "PT/nncc"
  for (t = 1; t <= 2; t++) {
    k = "mlp_b1:infer:" t
    printf "%3d %10s %12s %12s\n", t, num(nus[k]), num(tus[k]), \
      (nus[k] > 0 && tus[k] != "") ? sprintf("%.2fx", tus[k] / nus[k]) : "-"
  }
  print ""

  print "== sgemm, one thread, GFLOP/s, at the mlp's training shapes (m x n x k)"
  ob = "OpenBLAS"; if (obcore != "") ob = ob " (" obcore ")"
  sy = syslib == "" ? "system BLAS" : blas_kind(syslib)
  printf "%-9s %-11s %20s %24s\n", "product", "m x n x k", ob, sy
  for (i = 1; i <= nshapes; i++) {
    split(shapes[i], s, " ")
    printf "%-9s %-11s %20s %24s\n", s[1], s[2], \
      built["openblas"] ? num(sg["ob:" shapes[i]]) : "not installed", num(sg["sys:" shapes[i]])
  }
  if (!built["openblas"])
    print "   OpenBLAS: not installed (libopenblas-dev); `make bench` installs nothing."
  if (syslib != "")
    print "   system BLAS: " syslib " (libblas.so.3, the one PyTorch loads here)"
  if (nshapes == 0)
    print "   no BLAS with cblas.h to link against: sgemm skipped"
  print ""

  print "== compile times: nncc per example model (mean of 20 runs), cc -O3 of its C (median of 3)"
  printf "%-14s %9s %9s\n", "model", "nncc ms", "cc ms"
  for (i = 1; i <= ncm; i++)
    printf "%-14s %9s %9s\n", cm[i], nms[cm[i]], ccms[cm[i]]
  print "   (nncc's budget: < 50 ms per model)"
  print ""

  print "Notes"
  print " - GFLOP/s count the matrix products only, 2*B*in*out each: forward and"
  print "   backward-weights for every dense layer, backward-data for all but the"
  print "   first (its input needs no gradient); inference: forward only.  % FMA is"
  print "   against the FMA loop on the same number of threads."
  print " - autoencoder: SGD with momentum 0.9 in both nncc and PyTorch (the issue"
  print "   asks for Adam; nncc has no Adam yet)."
  print " - char_rnn, char_lstm, char_gru: 64 one-hot characters (vocabulary 65)"
  print "   -> rnn (tanh) / lstm / gru of 128 -> dense 65 at every step, cross-"
  print "   entropy per character, batch 32 windows, not stateful; throughput in"
  print "   characters/s (nncc: windows/s times the 64 steps), GFLOP/s from the"
  print "   FLOPs per 64-character window (the one-hot input's product counted"
  print "   as the dense product both nncc and PyTorch compute)."
  print " - Each figure: one batch of random data, 10 warm-up steps, then timed"
  print "   steps (about BENCH_SECONDS each run), median of 3 runs."
  if (tblas != "" && blas_kind(tblas) != "OpenBLAS") {
    print " - PyTorch runs its matrix products on " blas_kind(tblas) " (" tblas "):"
    print "   OpenBLAS is not installed, so its figures are far below PyTorch with"
    print "   OpenBLAS (perf-notes: ~61k samples/s for the mlp).  Compare with care;"
    print "   installing libopenblas0 makes libblas.so.3 point to OpenBLAS."
  }
}
