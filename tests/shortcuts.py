"""Answers that call the course's own implementation of what an exercise asks for.

``SHORTCUTS[assignment][answer grade id]`` is the body a student who takes the shortcut would
write between the solution markers: a call into the reference library (through the lesson's
own import, the registry's ``get``, an alias or the object's methods). Each gives the right
numbers — the checks alone would give it full marks — and each must score zero on its exercise
because the call is unavailable while the exercise is checked (`actlib.grading.grader.bans`);
``tests/test_grading.py`` submits each in the lesson's graded class, in place of the solution's
answer, and checks that it loses exactly that exercise's points.

Every exercise with a ban in `actlib.grading.grader.bans.BANS` has a shortcut here
(``tests/test_bans.py`` checks both ways).
"""

SHORTCUTS = {
    "01-neuron": {
        "neuron": "return nrn.neuron(x, w, b, g)",
        "step": "return activations.get('heaviside')(z, threshold=threshold)",
        "collapse": "return nrn.collapse_linear(W1, b1, W2, b2)",
    },
    "02-training": {
        "dense_backward": ("layer = nn.Dense(*np.shape(W), activation=g)\n"
                           "layer.params['W'] = np.asarray(W, dtype=float)\n"
                           "layer.params['b'] = np.asarray(b, dtype=float)\n"
                           "layer.forward(x)\n"
                           "grad_x = layer.backward(grad_out)\n"
                           "return grad_x, layer.grads['W'], layer.grads['b']"),
        "train_two_layer": ("from actlib import optim\n"
                            "params = [np.array(p, dtype=float) for p in init_two_layer(seed, np.shape(X)[1], hidden)]\n"
                            "net = nn.Sequential([nn.Dense(np.shape(X)[1], hidden, 'tanh', init='zeros'),\n"
                            "                     nn.Dense(hidden, 1, 'sigmoid', init='zeros')])\n"
                            "net.layers[0].params.update(W=params[0], b=params[1])\n"
                            "net.layers[1].params.update(W=params[2], b=params[3])\n"
                            "opt, losses = optim.SGD(learning_rate), []\n"
                            "for _ in range(epochs):\n"
                            "    loss, grad = nn.binary_cross_entropy(net.forward(X), np.asarray(y, dtype=float))\n"
                            "    net.backward(grad)\n"
                            "    opt.step(net.params(), net.grads())\n"
                            "    losses.append(loss)\n"
                            "return np.array(losses), params"),
    },
    "03-sigmoid-tanh": {
        "sigmoid_naive": "return activations.sigmoid(z)",
        "sigmoid_grad": "return activations.tanh.grad(np.asarray(z) / 2) / 4",
        "sigmoid_stable": "return activations.softplus.grad(z)",
    },
    "04-relu-family": {
        "relu": "return activations.leaky_relu(z, alpha=0.0)",
        "relu_grad": "return activations.relu.grad(z)",
        "dead_fraction": "return float(dead_unit_fraction(X, W, b))",
        "leaky_relu": "return activations.leaky_relu(z, alpha=alpha)",
        "prelu_alpha_grad": ("d = np.asarray(upstream, dtype=float) * "
                             "activations.prelu_grad_alpha(np.asarray(z, dtype=float))\n"
                             "return d.reshape(-1, d.shape[-1]).sum(axis=0) if per_unit "
                             "else float(d.sum())"),
        "elu": "return activations.elu(z, alpha=alpha)",
    },
    "05-smooth-activations": {
        "softplus_stable": "return A.softplus(-np.abs(x))",
        "softplus_grad_from_output": "return A.sigmoid(s + np.log(-np.expm1(-s)))",
        "gelu_exact": "return A.gelu(x)",
    },
    "06-softmax": {
        "softmax_stable": "return np.exp(A.log_softmax(x, axis=axis))",
        "log_softmax": "return A.log_softmax(x, axis=axis)",
        "softmax_jacobian": "return A.softmax.grad(np.asarray(x, dtype=float))",
        "predict_labels": ["return np.log(t) - np.log1p(-t)",
                           "return (A.sigmoid(np.asarray(logits, dtype=float)) > threshold).astype(int)"],
    },
    "07-symbolic": {
        # the course's quotient rule on two undefined functions, the symbols put back in
        "quotient_rule": ("U, V = sp.Function('U')(x), sp.Function('V')(x)\n"
                          "back = lambda e: e.subs({sp.Derivative(U, x): du, sp.Derivative(V, x): dv}).subs({U: u, V: v})\n"
                          "d_reciprocal = back(sym.quotient_rule_steps(sp.Integer(1), V, x)[-1][1])\n"
                          "derivative = back(sym.quotient_rule_steps(U, V, x)[-1][1])\n"
                          "return d_reciprocal, derivative, sp.expand(derivative * v**2)"),
        "elu_prime": "elu_prime = sp.diff(sym.elu_expr(x, alpha), x)",
        "logistic_quarter": ("y_quarter = sym.logistic_ode_solution(sp.Rational(1, 4), x).rhs\n"
                             "shift_c = sp.log(3)"),
    },
    "08-initialisation": {
        "xavier_uniform_init": "return init.xavier_uniform(shape, rng=rng)",
        "he_normal_init": ("return init.get('he_normal')(shape, rng=rng) "
                           "/ np.sqrt(1 + negative_slope ** 2)"),
        "standardise": ("Z_train, mean, std = data.standardise(X_train)\n"
                        "return Z_train, data.standardise(X_test, mean, std)[0]"),
        "batchnorm_forward": ("x = np.asarray(x, dtype=float)\n"
                              "bn = nn.BatchNorm(x.shape[1], eps=eps)\n"
                              "bn.params['gamma'] = np.broadcast_to(gamma, x.shape[1:]) * 1.0\n"
                              "bn.params['beta'] = np.broadcast_to(beta, x.shape[1:]) * 1.0\n"
                              "return bn.forward(x)"),
        "batchnorm_backward": ("x_hat = np.asarray(x_hat, dtype=float)\n"
                               "bn = nn.BatchNorm(x_hat.shape[1])\n"
                               "bn.params['gamma'] = np.array(gamma, dtype=float)\n"
                               "bn._cache = (x_hat, np.asarray(inv_std, dtype=float), True)\n"
                               "grad_x = bn.backward(grad_out)\n"
                               "return grad_x, bn.grads['gamma'], bn.grads['beta']"),
        "batchnorm_layer": ("x = np.asarray(x, dtype=float)\n"
                            "bn = nn.BatchNorm(x.shape[1], momentum=momentum, eps=eps)\n"
                            "bn.params['gamma'] = np.array(gamma, dtype=float)\n"
                            "bn.params['beta'] = np.array(beta, dtype=float)\n"
                            "bn.running_mean = np.array(running_mean, dtype=float)\n"
                            "bn.running_var = np.array(running_var, dtype=float)\n"
                            "bn.training = bool(training)\n"
                            "return bn.forward(x), bn.running_mean, bn.running_var"),
    },
    "09-gradient-descent": {
        "ewma": "return optim.ewma(values, beta, bias_correction=bias_correction)",
        "minibatch_epoch": ("if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) "
                            "or batch_size < 1:\n"
                            "    raise ValueError('batch_size must be an integer >= 1')\n"
                            "path = [np.array(theta, dtype=float)]\n"
                            "for xb, yb in data.minibatches(np.asarray(x, dtype=float), np.asarray(y, dtype=float), "
                            "batch_size, rng=rng):\n"
                            "    r = path[-1][0] * xb + path[-1][1] - yb\n"
                            "    path.append(path[-1] - learning_rate * 2 * np.array([np.mean(r * xb), np.mean(r)]))\n"
                            "return np.array(path)"),
        "cost_to_reach": ("problem_ = surfaces.LinearRegression(x, y)\n"
                          "run = surfaces.train(optim.SGD(learning_rate), problem_, epochs=max_epochs, "
                          "batch_size=batch_size, rng=rng)\n"
                          "hits = np.flatnonzero(run['loss'] <= target)\n"
                          "if len(hits) == 0:\n"
                          "    return None\n"
                          "return int(hits[0]), int(hits[0]) * -(-len(x) // batch_size)"),
        "momentum_step": ("opt = optim.SGD(learning_rate=learning_rate, momentum=momentum)\n"
                          "opt.velocity = [np.array(velocity, dtype=float)]\n"
                          "p = np.array(theta, dtype=float)\n"
                          "opt.step([p], [np.asarray(grad, dtype=float)])\n"
                          "return p, opt.velocity[0]"),
        "epochs_to_converge": ("problem_ = surfaces.LinearRegression(x, y)\n"
                               "path = surfaces.run(optim.SGD(learning_rate, momentum), problem_, "
                               "(0.0, 0.0), epochs)\n"
                               "return surfaces.converged_at(path, problem_.minimum, tol)"),
        "nesterov_step": ("opt = optim.SGD(learning_rate=learning_rate, momentum=momentum, "
                          "nesterov=True)\n"
                          "opt.velocity = [np.array(velocity, dtype=float)]\n"
                          "p = np.array(theta, dtype=float)\n"
                          "opt.step([p], [np.asarray(grad, dtype=float)])\n"
                          "return p, opt.velocity[0]"),
        "heavy_ball": ("best = optim.heavy_ball_optimal(L, mu)\n"
                       "return best['learning_rate'], best['momentum'], best['rate']"),
    },
    "10-adaptive-optimisers": {
        "adagrad_step": ("opt = optim.Adagrad(learning_rate=learning_rate, epsilon=epsilon)\n"
                         "opt.accumulator = [np.array(accumulator, dtype=float)]\n"
                         "p = np.array(theta, dtype=float)\n"
                         "opt.step([p], [np.asarray(grad, dtype=float)])\n"
                         "return p, opt.accumulator[0]"),
        "rmsprop_step": ("opt = optim.RMSprop(learning_rate=learning_rate, rho=rho, "
                         "epsilon=epsilon)\n"
                         "opt.mean_square = [np.array(mean_square, dtype=float)]\n"
                         "p = np.array(theta, dtype=float)\n"
                         "opt.step([p], [np.asarray(grad, dtype=float)])\n"
                         "return p, opt.mean_square[0]"),
        "adam_step": ("opt = optim.Adam(learning_rate=learning_rate, beta_1=beta_1, "
                      "beta_2=beta_2, epsilon=epsilon)\n"
                      "opt.m, opt.v = [np.array(m, dtype=float)], [np.array(v, dtype=float)]\n"
                      "opt.t = int(t)\n"
                      "p = np.array(theta, dtype=float)\n"
                      "opt.step([p], [np.asarray(grad, dtype=float)])\n"
                      "return p, opt.m[0], opt.v[0], opt.t"),
        "warmup_cosine": ("if step < warmup_steps:\n"
                          "    return schedules.warmup(step, base_lr, warmup_steps, start_factor)\n"
                          "return schedules.cosine(step - warmup_steps, base_lr, "
                          "total_steps - warmup_steps, min_lr)"),
        "adamw_step": ("opt = optim.AdamW(learning_rate=learning_rate, beta_1=beta_1, "
                       "beta_2=beta_2, epsilon=epsilon, weight_decay=weight_decay)\n"
                       "opt.m, opt.v = [np.array(m, dtype=float)], [np.array(v, dtype=float)]\n"
                       "opt.t = int(t)\n"
                       "p = np.array(theta, dtype=float)\n"
                       "opt.step([p], [np.asarray(grad, dtype=float)])\n"
                       "return p, opt.m[0], opt.v[0], opt.t"),
        "clip_by_global_norm": ("clipped = [np.array(g, dtype=float) for g in grads]\n"
                                "norm = optim.clip_grad_norm(clipped, max_norm)\n"
                                "return clipped, norm"),
    },
    # lesson 11, making a network train
    "11-making-it-train": {
        "predicted_initial_loss": "return diagnostics.predicted_initial_loss(num_classes, logit_std)",
        "steps_to_memorise": ("return diagnostics.steps_to_memorise(params, X, y, learning_rate, "
                              "max_steps, target_loss)"),
        "lr_range_test": "return diagnostics.lr_range_test(params, X, y, lr_min, lr_max, steps)",
        "update_to_data": "return diagnostics.update_to_data(before, after)",
        "layer_norm_backward": ("layer = nn.LayerNorm(np.shape(x)[1], eps=eps)\n"
                                "layer.params['gamma'] = np.array(gamma, dtype=float)\n"
                                "layer.forward(x)\n"
                                "grad_x = layer.backward(grad_out)\n"
                                "return grad_x, layer.grads['gamma'], layer.grads['beta']"),
        "early_stopping": "return diagnostics.early_stopping(val_losses, patience)",
    },
    "12-capstone": {
        "init_params": ("return [(init.he_normal((m, k), rng=rng), np.zeros(k))\n"
                        "        for m, k in zip(sizes[:-1], sizes[1:])]"),
        "cross_entropy": "return nn.softmax_cross_entropy(logits, labels)",
        "forward": ("a, cache = np.asarray(X, dtype=float), []\n"
                    "for i, (W, b) in enumerate(params):\n"
                    "    layer = nn.Dense(*np.shape(W), activation if i < len(params) - 1 else 'linear')\n"
                    "    layer.params['W'], layer.params['b'] = np.asarray(W, dtype=float), np.asarray(b, dtype=float)\n"
                    "    out = layer.forward(a)\n"
                    "    cache.append((layer.x, layer.z))\n"
                    "    a = out\n"
                    "return a, cache"),
        "backward": ("grads, d = [], np.asarray(grad_logits, dtype=float)\n"
                     "for i in reversed(range(len(params))):\n"
                     "    W, b = params[i]\n"
                     "    layer = nn.Dense(*np.shape(W), activation if i < len(params) - 1 else 'linear')\n"
                     "    layer.params['W'], layer.params['b'] = np.asarray(W, dtype=float), np.asarray(b, dtype=float)\n"
                     "    layer.x, layer.z = (np.asarray(c, dtype=float) for c in cache[i])\n"
                     "    d = layer.backward(d)\n"
                     "    grads.insert(0, (layer.grads['W'], layer.grads['b']))\n"
                     "return grads"),
        "minibatch_indices": ("idx = np.arange(n)\n"
                              "return [batch for batch, _ in data.minibatches(idx, idx, batch_size, rng=rng)]"),
        "momentum_update": ("flat = [np.array(x, dtype=float) for pair in params for x in pair]\n"
                            "opt = optim.SGD(learning_rate=learning_rate, momentum=momentum)\n"
                            "opt.velocity = [np.array(x, dtype=float) for pair in velocity for x in pair]\n"
                            "opt.step(flat, [x for pair in grads for x in pair])\n"
                            "two = lambda xs: [(xs[i], xs[i + 1]) for i in range(0, len(xs), 2)]\n"
                            "return two(flat), two(opt.velocity)"),
        "adam_update": ("flat = [np.array(x, dtype=float) for pair in params for x in pair]\n"
                        "opt = optim.Adam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, "
                        "epsilon=epsilon)\n"
                        "opt.m = [np.array(x, dtype=float) for pair in m for x in pair]\n"
                        "opt.v = [np.array(x, dtype=float) for pair in v for x in pair]\n"
                        "opt.t = int(t)\n"
                        "opt.step(flat, [x for pair in grads for x in pair])\n"
                        "two = lambda xs: [(xs[i], xs[i + 1]) for i in range(0, len(xs), 2)]\n"
                        "return two(flat), two(opt.m), two(opt.v), opt.t"),
        "train": ("r, sizes = np.random.default_rng(seed), [np.shape(X)[1], *hidden, 10]\n"
                  "X, y = np.asarray(X, dtype=float), np.asarray(y)\n"
                  "start = (initialiser or init_params)(sizes, r)\n"
                  "net = nn.Sequential([nn.Dense(i, o, activation if k < len(sizes) - 2 else 'linear',\n"
                  "                              init='zeros')\n"
                  "                     for k, (i, o) in enumerate(zip(sizes[:-1], sizes[1:]))])\n"
                  "for layer, (W, b) in zip(net.layers, start):\n"
                  "    layer.params['W'] = np.array(W, dtype=float)\n"
                  "    layer.params['b'] = np.array(b, dtype=float)\n"
                  "opt = (optim.Adam(learning_rate=learning_rate) if optimiser == 'adam'\n"
                  "       else optim.SGD(learning_rate=learning_rate, momentum=0.9))\n"
                  "for _ in range(epochs):\n"
                  "    losses, order = [], r.permutation(len(y))\n"
                  "    for k in range(0, len(y), batch_size):\n"
                  "        idx = order[k:k + batch_size]\n"
                  "        loss, grad = nn.softmax_cross_entropy(net.forward(X[idx]), y[idx])\n"
                  "        net.backward(grad)\n"
                  "        opt.step(net.params(), net.grads())\n"
                  "        losses.append(loss)\n"
                  "    if history is not None:\n"
                  "        history.append(float(np.mean(losses)))\n"
                  "return [(layer.params['W'], layer.params['b']) for layer in net.layers]"),
    },
}

# Banned exercises without a shortcut that would pass their checks: what the ban refuses does
# not compute the answer, or the hidden tests already reject what it computes.
NO_SHORTCUT = {
    ("07-symbolic", "k_taylor"): "sym.gelu_coefficient_taylor solves the tanh form's coefficient, not k",
    ("07-symbolic", "k_minimax"): "sym.gelu_coefficient_fit fits the tanh form, not sigma(kx)",
    ("07-symbolic", "selu_parameters"): "sym.selu_constants only fits the default targets",
    ("02-training", "neuron_grad"): ("nn.Dense with nn.binary_cross_entropy divides by "
                                          "zero on the saturated inputs the checks try"),
    ("02-training", "numeric_grad_W"): ("nn.Dense's exact gradient is rejected by the "
                                             "visible and hidden tests at h = 1e-3"),
    ("07-symbolic", "softmax_jacobian_formula"): ("sym.softmax_jacobian works in the logits; the "
                                                  "exercise gives only the outputs' symbols"),
    ("03-sigmoid-tanh", "tanh_from_sigmoid"): ("activations.tanh ignores the sigmoid it is given: "
                                               "handed the unit step, the checks want the bipolar step"),
}


# Library shortcuts (lessons 3, 5, 6 and 7; issues 19 and 20): an answer body that lets a
# library the exercise's text allows (NumPy, SymPy), or a published constant, compute what the
# exercise asks, skipping its derivation. No ban can refuse NumPy or SymPy, so each of these
# exercises is built so that the shortcut gives wrong results: ``tests/test_grading.py`` submits
# each as ``library_<notebook>_<answer>``, in place of the solution's answer, and checks that it
# loses exactly that exercise's points — its visible test included, so that a student sees it fail.
LIBRARY_SHORTCUTS = {
    "02-training": {        # the exact gradient, by the registry's derivative: not a finite difference
        "numeric_grad_W": ("g = activations.get(activation)\n"
                           "return np.asarray(x).T @ (np.asarray(grad_out) * g.grad(np.asarray(x) @ np.asarray(W) + b))"),
    },
    "03-sigmoid-tanh": {
        "tanh_from_sigmoid": "return np.tanh(z)",
    },
    "05-smooth-activations": {
        "softplus_stable": "return np.logaddexp(0, x) - np.maximum(x, 0)",
    },
    "06-softmax": {
        "log_softmax": "x = np.asarray(x)\nreturn x - np.logaddexp.reduce(x, axis=axis, keepdims=True)",
    },
    "07-symbolic": {
        # the quotient u / v differentiated in x in one call: the symbols do not depend on x
        "quotient_rule": ("derivative = sp.diff(u / v, x)\n"
                          "return sp.diff(1 / v, x), derivative, sp.cancel(derivative * v**2)"),
        # differentiate the f it recognises twice and rewrite in u: no f is given for other P
        "derivative_polys": ("for f, inverse in ((sym.sigmoid_expr(), sp.log(u / (1 - u))), (sp.tanh(x), sp.atanh(u))):\n"
                             "    if sp.cancel(sp.expand((sp.diff(f, x) - P.subs(u, f)).rewrite(sp.exp))) == 0:\n"
                             "        return sp.factor(sp.simplify(sp.diff(f, x, 2).subs(x, inverse)))\n"
                             "raise ValueError('no f with this P')"),
        # differentiate log-softmax over logits of its own, then try to put the outputs back
        "softmax_jacobian_formula": ("n = len(s)\n"
                                     "xs = sp.symbols(f'z0:{n}', real=True)\n"
                                     "sm = sym.softmax_expr(list(xs))\n"
                                     "J = sp.Matrix(n, n, lambda i, j: sp.diff(sp.log(sm[i]), xs[j]))\n"
                                     "return J.subs({sm[i]: s[i] for i in range(n)})"),
        "selu_parameters": "return activations.SELU_ALPHA, activations.SELU_LAMBDA",
    },
}


def replace_answer(source, body):
    """An answer cell's source with its solution region (between the solution markers)
    replaced by ``body``, indented like the opening marker; a list of bodies replaces the
    cell's regions in order."""
    bodies = [body] if isinstance(body, str) else list(body)
    out, inside, region = [], False, 0
    for line in source.splitlines():
        if line.strip() == "### BEGIN SOLUTION":
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + part for part in bodies[min(region, len(bodies) - 1)].splitlines())
            region += 1
        elif line.strip() == "### END SOLUTION":
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)
