/* ops.h — every IR operation, one row each (an X-macro, after QBE's ops.h
 * and KANN's kad_op_list):
 *
 *   OP(id, name, arity, shape rule, C emitter, gradient rule, doc)
 *
 * arity -1 means "varies" (linear with or without bias).  The shape rule
 * computes the output's shape from the inputs' and rejects mismatches (it is
 * also the IR verifier's check); the emitter writes the op's loops into the
 * layer function that holds it; the gradient rule appends the backward ops
 * (grad_none: nothing flows back through this op).  Shapes: B is the batch,
 * "x[B,K]" a batched value with K features per row.
 */
/* forward ops */
OP(VIEW,      "view",      1,  shape_view,      emit_view,      grad_view,      "y = x seen with another shape (no copy)")
OP(LINEAR,    "linear",    -1, shape_linear,    emit_linear,    grad_linear,    "y[B,N] = x[B,K] w[N,K]^T (+ b[N]), then act if fused")
OP(ACT,       "act",       1,  shape_same,      emit_act,       grad_act,       "y = f(x) elementwise, f from acts.h")
OP(GATHER,    "gather",    -1, shape_gather,    emit_gather,    grad_gather,    "y[B,N] = w[N, id] (+ b[N]): linear of a one-hot token input, as a column gather; inputs ids, w [, b]")
OP(SOFTMAX,   "softmax",   1,  shape_same,      emit_softmax,   grad_softmax,   "y[b,:] = exp(x[b,:] - max) / sum")
OP(CONV2D,    "conv2d",    -1, shape_conv,      emit_conv2d,    grad_conv2d,    "y[oh,ow,oc] = sum w[oc,ic,kh,kw] x[oh*sh+kh-pt, ow*sw+kw-pl, ic] (+ b[oc]), then act if fused")
OP(MAXPOOL,   "maxpool",   1,  shape_pool,      emit_maxpool,   grad_maxpool,   "y[oh,ow,c] = max of x over the window (padding never wins)")
OP(AVGPOOL,   "avgpool",   1,  shape_pool,      emit_avgpool,   grad_avgpool,   "y[oh,ow,c] = sum of x over the window / (kh kw) (padding counts as 0)")
OP(SCAN,      "scan",      -1, shape_scan,      emit_scan,      grad_scan,      "h[t] = cell(gx[t] + w_hh h[t-1] (+ b_hh)) for t < T (rnn, lstm, gru: PyTorch's equations); inputs gx = x w_ih^T + b_ih, w_hh [, b_hh]")
OP(ADD,       "add",       -1, shape_add,       emit_add,       grad_add,       "y = x1 + x2 (+ ...) elementwise; inputs of one shape (skip connections)")
OP(CONCAT,    "concat",    -1, shape_concat,    emit_concat,    grad_concat,    "y[p, :] = x1[p, :] ++ x2[p, :] (++ ...): features, or the channels at every pixel p of (H, W, C) inputs")
OP(LAST,      "last",      1,  shape_last,      emit_last,      grad_last,      "y[B,H] = h[T-1]: the last step of a sequence")
OP(DROPOUT,   "dropout",   1,  shape_same,      emit_dropout,   grad_dropout,   "training: y = x m / (1 - rate), m = keep(seed, step, layer, i) ~ Bernoulli(1 - rate) (nnmath.h); else y = x")
OP(NOISE,     "noise",     1,  shape_same,      emit_noise,     grad_noise,     "training: y = x + std z, z = gauss(seed, step, layer, i) ~ N(0, 1) (nnmath.h); else y = x")
/* losses: out is the mean loss (a scalar); they also count correct rows */
OP(CE_SOFTMAX,  "ce_softmax",  3, shape_loss_ce,  emit_ce_softmax,  grad_ce_softmax,  "mean_b lse(z[b,:]) - z[b,c_b]; inputs z, p = softmax(z), class")
OP(BCE_SIGMOID, "bce_sigmoid", 3, shape_loss_bce, emit_bce_sigmoid, grad_bce_sigmoid, "mean max(z,0) - t z + log1p(exp(-|z|)); inputs z, p = sigmoid(z), t")
OP(MSE,         "mse",         2, shape_loss_mse, emit_mse,         grad_mse,         "mean (y - t)^2; inputs y, t")
OP(ACTIVITY_L1, "activity_l1", 1, shape_loss_l1, emit_activity_l1, grad_activity_l1, "loss += lambda sum |y| / nb (the mean over the batch of the sum over features); lambda = alpha")
/* backward ops */
OP(ACT_GRAD,     "act_grad",     -1, shape_same,     emit_act_grad,     grad_none, "dx = f'(x or y) dy; inputs dy [, x or y]")
OP(SOFTMAX_GRAD, "softmax_grad", 2,  shape_same,     emit_softmax_grad, grad_none, "dx = y (dy - sum_j dy_j y_j); inputs dy, y")
OP(MATMUL_NN,    "matmul_nn",    2,  shape_matmul_nn, emit_matmul_nn,   grad_none, "dx[B,K] = dy[B,N] w[N,K]")
OP(MATMUL_TN,    "matmul_tn",    2,  shape_matmul_tn, emit_matmul_tn,   grad_none, "dw[N,K] = dy[B,N]^T x[B,K] (sum over the batch)")
OP(SCATTER_ADD,  "scatter_add",  2,  shape_scatter,   emit_scatter_add, grad_none, "dw[N, id] += dy[B,N] over the columns (rows of dw split across threads); inputs dy, ids")
OP(COLSUM,       "colsum",       1,  shape_colsum,    emit_colsum,      grad_none, "db[N] = sum_b dy[b,N]")
OP(TRANSPOSE,    "transpose",    1,  shape_same,      emit_transpose,   grad_none, "xt[B][K] = x[K][B]: the row-major copy matmul_tn reads")
OP(CE_SOFTMAX_GRAD,  "ce_softmax_grad",  2, shape_same, emit_ce_softmax_grad,  grad_none, "dz = (p - onehot(c)) / nb; inputs p, class")
OP(BCE_SIGMOID_GRAD, "bce_sigmoid_grad", 2, shape_same, emit_bce_sigmoid_grad, grad_none, "dz = (p - t) / (nb K); inputs p, t")
OP(MSE_GRAD,         "mse_grad",         2, shape_same, emit_mse_grad,         grad_none, "dy = 2 (y - t) / (nb K); inputs y, t")
OP(PERCEPTRON_GRAD,  "perceptron_grad",  2, shape_same, emit_perceptron_grad,  grad_none, "dz = y - t, summed over the batch (the perceptron rule's error; no mean); inputs y = step(z), t")
OP(CONV2D_DX,    "conv2d_dx",    2, shape_conv_dx,   emit_conv2d_dx,    grad_none, "dx = dy convolved back through w (the transposed convolution); inputs dy, w")
OP(IM2COL,       "im2col",       1, shape_im2col,    emit_im2col,       grad_none, "col[(p,b)][j] = x at output pixel p's tap j = (ic,kh,kw), 0 in the padding; row-major")
OP(CONV2D_DW,    "conv2d_dw",    2, shape_conv_dw,   emit_conv2d_dw,    grad_none, "dw[oc][j] = sum over pixels p and rows b of dy[p,oc][b] col[(p,b)][j]; inputs dy, col")
OP(CHANNEL_SUM,  "channel_sum",  1, shape_chan_sum,  emit_channel_sum,  grad_none, "db[oc] = sum over pixels and rows of dy[p,oc][b]")
OP(MAXPOOL_GRAD, "maxpool_grad", 3, shape_pool_grad, emit_maxpool_grad, grad_none, "dx: each dy to the first maximum of its window (scan order kh, kw); inputs dy, x, y")
OP(AVGPOOL_GRAD, "avgpool_grad", 1, shape_pool_grad, emit_avgpool_grad, grad_none, "dx: each dy / (kh kw) to every input of its window")
OP(SCAN_GRAD,  "scan_grad",  -1, shape_scan_grad, emit_scan_grad,  grad_none, "dgx[t] for t = T-1 .. 0 (backpropagation through time); inputs dh, h, w_hh, h0 [, saved gates [, c, c0]]")
OP(LAST_GRAD,  "last_grad",  2,  shape_last_grad, emit_last_grad,  grad_none, "dh[t] = dy at t = T-1, 0 before; inputs dy, h")
OP(DROPOUT_GRAD, "dropout_grad", 1, shape_same,    emit_dropout_grad, grad_none, "training: dx = dy m / (1 - rate), the forward's mask recomputed; else dx = dy; inputs dy")
OP(SHIFT_T,    "shift_t",    2,  shape_shift_t,   emit_shift_t,    grad_none, "hp[(t,b)][k] = h[t-1][k][b] (h0 at t = 0), row-major: what matmul_tn reads for dw_hh; inputs h, h0")
/* batch normalization (forward and its gradients); x is (N) or (H, W, C), C channels */
OP(BATCHNORM,    "batchnorm",        3, shape_bn,       emit_batchnorm, grad_batchnorm, "y = gamma (x - mean) invstd + beta per channel: the batch's mean and biased variance when training (the running ones updated), the running ones in evaluation; inputs x, gamma, beta; writes stats (mean, invstd), running_mean, running_var, num_batches_tracked")
OP(BN_DGAMMA,    "batchnorm_dgamma", 3, shape_bn_param, emit_bn_dgamma, grad_none, "dgamma[c] = sum over live columns and pixels of dy xhat, xhat = (x - mean) invstd; inputs dy, x, stats")
OP(BN_DBETA,     "batchnorm_dbeta",  1, shape_bn_param, emit_bn_dbeta,  grad_none, "dbeta[c] = sum over live columns and pixels of dy")
OP(BN_DX,        "batchnorm_dx",     6, shape_bn_dx,    emit_bn_dx,     grad_none, "dx = gamma invstd (dy - (dbeta + xhat dgamma) / n) on live columns (n of them times the pixels), 0 on dead ones; inputs dy, x, gamma, stats, dgamma, dbeta")
OP(COPY,       "copy",       1, shape_same,  emit_copy,   grad_none, "dx = dy (+= when accumulating): an add's gradient to an input with other users")
OP(SLICE,      "slice",      1, shape_slice, emit_slice,  grad_none, "dx[p, :] = dy[p, off:off + width]: a concat's gradient to one input")
OP(ACTIVITY_L1_GRAD, "activity_l1_grad", 1, shape_same, emit_activity_l1_grad, grad_none, "dy = lambda sign(y) / nb on live columns; input y")
/* update */
OP(SGD, "sgd", -1, shape_none, emit_sgd, grad_none, "v = mu v + (g + wd w); w -= lr v (mu = 0: w -= lr (g + wd w)); inputs w, g [, v]")
OP(ADAM,    "adam",    4,  shape_none, emit_adam,    grad_none, "m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; w -= lr/(1-b1^t) m / (sqrt(v/(1-b2^t)) + eps) (adamw: w *= 1 - lr wd first); inputs w, g, m, v")
OP(RMSPROP, "rmsprop", -1, shape_none, emit_rmsprop, grad_none, "s = a s + (1-a) g^2; u = g / (sqrt(s) + eps); mu > 0: b = mu b + u, w -= lr b; else w -= lr u; inputs w, g, s [, b]")
