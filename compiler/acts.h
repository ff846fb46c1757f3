/* acts.h — the elementwise activations, one row each (an X-macro):
 *
 *   ACT(id, name, forward, backward, uses)
 *
 * forward  is a C expression of `xi` (the pre-activation) giving yi;
 * backward is a C expression of `dyi` and of `xi` or `yi` (as `uses` says:
 *          'x', 'y', or 'n' for neither) giving dL/dx = dL/dy * dy/dx for one element;
 * `alpha` is the layer's slope (leaky_relu) and `real` the float type.
 * Expressions are emitted inside generated loops; <tgmath.h> picks the
 * float or double version (nn_exp etc. are in runtime/nnmath.h).  softmax
 * is row-wise and has its own ops.
 */
ACT(IDENTITY,   "identity",   "xi",                              "dyi",                           'n')
ACT(STEP,       "step",       "xi > 0 ? (real)1 : (real)0",      "dyi * (real)0",                 'n')
ACT(SIGMOID,    "sigmoid",    "nn_sigmoid(xi)",                  "dyi * yi * ((real)1 - yi)",     'y')
ACT(TANH,       "tanh",       "nn_tanh(xi)",                    "dyi * ((real)1 - yi * yi)",     'y')
ACT(RELU,       "relu",       "xi > 0 ? xi : (real)0",           "yi > 0 ? dyi : (real)0",        'y')
ACT(LEAKY_RELU, "leaky_relu", "xi > 0 ? xi : alpha * xi",        "xi > 0 ? dyi : alpha * dyi",    'x')
ACT(SOFTPLUS,   "softplus",   "xi > 20 ? xi : log1p(nn_exp(xi))","dyi * nn_sigmoid(xi)",          'x')
