# ir of model 'res' after memplan: 43 values, 42 ops
values:
  %0   x                act    (B,4)        @0
  %1   h0.weight        param  (3,4)        init xavier uniform(-0.92582, 0.92582) grad d_h0.weight @0
  %2   h0.bias          param  (3)          init zeros grad d_h0.bias @16
  %3   h0_z             act    (B,3)        grad d_h0_z dead
  %4   h0               act    (B,3)        grad d_h0 @64
  %5   h1.weight        param  (5,3)        init he normal(0, 0.816497) grad d_h1.weight @32
  %6   h1.bias          param  (5)          init zeros grad d_h1.bias @48
  %7   h1_z             act    (B,5)        grad d_h1_z dead
  %8   h1               act    (B,5)        grad d_h1 @80
  %9   h2.weight        param  (3,5)        init xavier uniform(-0.866025, 0.866025) grad d_h2.weight @64
  %10  h2.bias          param  (3)          init zeros grad d_h2.bias @80
  %11  h2               act    (B,3)        grad d_h2 @112
  %12  s_z              act    (B,3)        grad d_s_z @128
  %13  s                act    (B,3)        grad d_s @144
  %14  c                act    (B,11)       grad d_c @160
  %15  out.weight       param  (3,11)       init xavier uniform(-0.654654, 0.654654) grad d_out.weight @96
  %16  out.bias         param  (3)          init zeros grad d_out.bias @144
  %17  out_z            act    (B,3)        grad d_out_z dead
  %18  out              act    (B,3)        grad d_out @128
  %19  y                extern (B,3)
  %20  loss             scalar ()
  %21  d_out            act    (B,3)        @112
  %22  d_out_z          act    (B,3)        @224
  %23  d_c              act    (B,11)       @240
  %24  c_t              act    (B,11)       row-major @304
  %25  d_out.weight     grad   (3,11)       @96
  %26  d_out.bias       grad   (3)          @144
  %27  d_s              act    (B,3)        @112
  %28  d_h1             act    (B,5)        @160
  %29  d_h0             act    (B,3)        @192
  %30  d_s_z            act    (B,3)        @208
  %31  d_h2             act    (B,3)        view of d_s_z @208
  %32  h1_t             act    (B,5)        row-major @224
  %33  d_h2.weight      grad   (3,5)        @64
  %34  d_h2.bias        grad   (3)          @80
  %35  d_h1_z           act    (B,5)        @208
  %36  h0_t             act    (B,3)        row-major @112
  %37  d_h1.weight      grad   (5,3)        @32
  %38  d_h1.bias        grad   (5)          @48
  %39  d_h0_z           act    (B,3)        @80
  %40  x_t              act    (B,4)        row-major from-batch @32
  %41  d_h0.weight      grad   (3,4)        @0
  %42  d_h0.bias        grad   (3)          @16
ops:
  fwd  h0     h0 = linear.tanh x, h0.weight, h0.bias
  fwd  h1     h1 = linear.relu h0, h1.weight, h1.bias
  fwd  h2     h2 = linear h1, h2.weight, h2.bias
  fwd  s      s_z = add h0, h2
  fwd  s      s = act.tanh s_z
  fwd  c      c = concat s, h1, h0
  fwd  out    out = linear.sigmoid c, out.weight, out.bias
  loss -      loss = mse out, y
  loss -      loss += activity_l1 out
  bwd  -      d_out = activity_l1_grad out
  bwd  -      d_out += mse_grad out, y
  bwd  out    d_out_z = act_grad.sigmoid d_out, out
  bwd  out    d_c = matmul_nn d_out_z, out.weight
  bwd  out    c_t = transpose c
  bwd  out    d_out.weight = matmul_tn d_out_z, c_t
  bwd  out    d_out.bias = colsum d_out_z
  bwd  c      d_s = slice d_c
  bwd  c      d_h1 = slice d_c
  bwd  c      d_h0 = slice d_c
  bwd  s      d_s_z = act_grad.tanh d_s, s
  bwd  s      d_h0 += copy d_s_z
  bwd  h2     d_h1 += matmul_nn d_h2, h2.weight
  bwd  h2     h1_t = transpose h1
  bwd  h2     d_h2.weight = matmul_tn d_h2, h1_t
  bwd  h2     d_h2.bias = colsum d_h2
  bwd  h1     d_h1_z = act_grad.relu d_h1, h1
  bwd  h1     d_h0 += matmul_nn d_h1_z, h1.weight
  bwd  h1     h0_t = transpose h0
  bwd  h1     d_h1.weight = matmul_tn d_h1_z, h0_t
  bwd  h1     d_h1.bias = colsum d_h1_z
  bwd  h0     d_h0_z = act_grad.tanh d_h0, h0
  bwd  h0     x_t = transpose x
  bwd  h0     d_h0.weight = matmul_tn d_h0_z, x_t
  bwd  h0     d_h0.bias = colsum d_h0_z
  upd  h0     sgd h0.weight, d_h0.weight momentum=0
  upd  h0     sgd h0.bias, d_h0.bias momentum=0
  upd  h1     sgd h1.weight, d_h1.weight momentum=0
  upd  h1     sgd h1.bias, d_h1.bias momentum=0
  upd  h2     sgd h2.weight, d_h2.weight momentum=0
  upd  h2     sgd h2.bias, d_h2.bias momentum=0
  upd  out    sgd out.weight, d_out.weight momentum=0
  upd  out    sgd out.bias, d_out.bias momentum=0
arenas (elements): act 368 param 160 grad 160 state 0
