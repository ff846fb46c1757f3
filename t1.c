# ir of model 't1' after memplan: 30 values, 23 ops
values:
  %0   x                act    (B,5)        @0
  %1   h.weight         param  (4,5)        init xavier uniform(-0.816497, 0.816497) grad d_h.weight @0
  %2   h.bias           param  (4)          init zeros grad d_h.bias @32
  %3   h                act    (B,4)        grad d_h @64
  %4   b.weight         param  (4)          init const(1) grad d_b.weight @48
  %5   b.bias           param  (4)          init zeros grad d_b.bias @64
  %6   b.running_mean   param  (4)          init zeros buffer @80
  %7   b.running_var    param  (4)          init const(1) buffer @96
  %8   b.num_batches_tracked param  ()           init zeros buffer int64 @112
  %9   b_z              act    (B,4)        grad d_b_z dead
  %10  b_stats          act    (2,4)        @80
  %11  b                act    (B,4)        grad d_b @112
  %12  out.weight       param  (3,4)        init xavier uniform(-0.92582, 0.92582) grad d_out.weight @128
  %13  out.bias         param  (3)          init zeros grad d_out.bias @144
  %14  out_z            act    (B,3)        grad d_out_z @128
  %15  out              act    (B,3)        @144
  %16  y                extern (B,1)        int32
  %17  loss             scalar ()
  %18  d_out_z          act    (B,3)        @128
  %19  d_b              act    (B,4)        @160
  %20  b_t              act    (B,4)        row-major @176
  %21  d_out.weight     grad   (3,4)        @128
  %22  d_out.bias       grad   (3)          @144
  %23  d_b_z            act    (B,4)        @128
  %24  d_b.weight       grad   (4)          @48
  %25  d_b.bias         grad   (4)          @64
  %26  d_h              act    (B,4)        @176
  %27  x_t              act    (B,5)        row-major from-batch @32
  %28  d_h.weight       grad   (4,5)        @0
  %29  d_h.bias         grad   (4)          @32
ops:
  fwd  h      h = linear x, h.weight, h.bias
  fwd  b      b = batchnorm.relu h, b.weight, b.bias momentum=0.1 eps=1e-05 writes b_stats, b.running_mean, b.running_var, b.num_batches_tracked
  fwd  out    out_z = linear b, out.weight, out.bias
  fwd  out    out = softmax out_z
  loss -      loss = ce_softmax out_z, out, y
  bwd  -      d_out_z = ce_softmax_grad out, y
  bwd  out    d_b = matmul_nn d_out_z, out.weight
  bwd  out    b_t = transpose b
  bwd  out    d_out.weight = matmul_tn d_out_z, b_t
  bwd  out    d_out.bias = colsum d_out_z
  bwd  b      d_b_z = act_grad.relu d_b, b
  bwd  b      d_b.weight = batchnorm_dgamma d_b_z, h, b_stats
  bwd  b      d_b.bias = batchnorm_dbeta d_b_z
  bwd  b      d_h = batchnorm_dx d_b_z, h, b.weight, b_stats, d_b.weight, d_b.bias
  bwd  h      x_t = transpose x
  bwd  h      d_h.weight = matmul_tn d_h, x_t
  bwd  h      d_h.bias = colsum d_h
  upd  h      sgd h.weight, d_h.weight momentum=0
  upd  h      sgd h.bias, d_h.bias momentum=0
  upd  b      sgd b.weight, d_b.weight momentum=0
  upd  b      sgd b.bias, d_b.bias momentum=0
  upd  out    sgd out.weight, d_out.weight momentum=0
  upd  out    sgd out.bias, d_out.bias momentum=0
arenas (elements): act 192 param 160 grad 160 state 0
