"""The tables of ``ravine list``, stored so that it answers without importing torch.

Written by :func:`ravine.cli.list.write_tables`; do not edit.
"""

# ruff: noqa: E501
# fmt: off
TABLES = {
    'optimizers': {
        'digest': '5e705f4dc2d2dcc1',
        'rows': [
            ('name', 'family', 'defaults', 'paper'),
            ('sgd', 'gradient descent', 'lr=0.01', 'Robbins and Monro 1951'),
            ('momentum', 'momentum', 'lr=0.01, momentum=0.9, lr_in_velocity=True', 'Polyak 1964'),
            ('nesterov', 'momentum', 'lr=0.01, momentum=0.9, lookahead=False', 'Nesterov 1983; Sutskever et al. 2013'),
            ('adagrad', 'adaptive', 'lr=0.01, eps=1e-08, initial_accumulator=0, eps_in_sqrt=False', 'Duchi, Hazan and Singer 2011'),
            ('rmsprop', 'adaptive', 'lr=0.001, decay=0.9, eps=1e-08, eps_in_sqrt=False, momentum=0, centered=False', 'Tieleman and Hinton 2012'),
            ('adadelta', 'adaptive', 'lr=1, decay=0.9, eps=1e-06', 'Zeiler 2012'),
            ('adam', 'adam', 'lr=0.001, betas=(0.9, 0.999), eps=1e-08, bias_correction=True, amsgrad=False, decoupled_weight_decay=False', 'Kingma and Ba 2015'),
            ('adamw', 'adam', 'lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, bias_correction=True, amsgrad=False', 'Loshchilov and Hutter 2019'),
            ('adamax', 'adam', 'lr=0.002, betas=(0.9, 0.999), eps=1e-08, eps_in_max=True', 'Kingma and Ba 2015 (Sec. 7.1)'),
            ('nadam', 'adam', 'lr=0.002, betas=(0.9, 0.999), eps=1e-08, momentum_decay=0, decoupled_weight_decay=False', 'Dozat 2016'),
            ('adabelief', 'adam', 'lr=0.001, betas=(0.9, 0.999), eps=1e-16, decoupled_weight_decay=False', 'Zhuang et al. 2020'),
            ('newton', 'second-order', 'lr=1, damping=0, solver=direct, line_search_fn=None, max_params=4096, cg_max_iter=200', 'Newton 1669; Nocedal and Wright 2006, ch. 3 and 7'),
            ('levenberg_marquardt', 'second-order', 'damping=1, decrease=0.666667, increase=1.5, max_params=4096', 'Levenberg 1944; Marquardt 1963'),
            ('gauss_newton', 'second-order', 'lr=1, damping=0.001, cg_max_iter=50, cg_tol=1e-05, adaptive_damping=True', 'Schraudolph 2002'),
            ('natural_gradient', 'second-order', 'lr=1, damping=0.001, fisher=true, likelihood=categorical, cg_max_iter=50, cg_tol=1e-05, adaptive_damping=True', 'Amari 1998'),
            ('hessian_free', 'second-order', 'lr=1, damping=1, cg_max_iter=50, cg_tol=0.0005, cg_decay=0.95', 'Martens 2010'),
            ('diagonal_newton', 'second-order (diagonal)', 'lr=0.15, betas=(0.9, 0.999), eps=0.0001, hessian_power=1, seed=0', 'Yao et al. 2021 (AdaHessian)'),
            ('block_newton', 'second-order (block-diagonal)', 'lr=1, damping=0.001, blocks=tensor, max_block=4096', 'Dauphin et al. 2014 (saddle-free Newton); Martens and Grosse 2015 (blocks)'),
            ('kfac', 'second-order (Kronecker-factored)', 'lr=0.01, damping=0.001, momentum=0.9, factor_decay=0.95, factor_update_interval=1, inverse_update_interval=10', 'Martens and Grosse 2015'),
            ('bfgs', 'quasi-Newton', 'lr=1, tolerance_grad=1e-07, max_eval=25, line_search_fn=strong_wolfe', 'Broyden 1970; Fletcher 1970; Goldfarb 1970; Shanno 1970'),
            ('lbfgs', 'quasi-Newton', 'lr=1, max_iter=1, max_eval=None, tolerance_grad=1e-07, tolerance_change=1e-09, history_size=100, line_search_fn=None', 'Liu and Nocedal 1989'),
        ],
    },
    'schedules': {
        'digest': '6fabfb5f8574826f',
        'rows': [
            ('name', 'aliases', 'string form'),
            ('constant', 'const', 'constant[:VALUE]'),
            ('step_decay', 'step', 'step_decay:EVERY[:FACTOR][:init=VALUE]'),
            ('multi_step', 'multistep', 'multi_step:MILESTONES[:FACTOR][:init=VALUE]'),
            ('exponential', 'exp', 'exponential:GAMMA[:init=VALUE]'),
            ('inverse_time', 'invtime, inverse', 'inverse_time:K[:POWER][:init=VALUE]'),
            ('cosine', 'cos', 'cosine:TOTAL[:FINAL][:init=VALUE]'),
            ('polynomial', 'poly', 'polynomial:TOTAL[:POWER][:FINAL][:init=VALUE]'),
            ('linear', '', 'linear:START:END:STEPS[:relative=VALUE]'),
            ('warmup', '', 'warmup:STEPS[:start=VALUE]'),
            ('one_cycle', 'onecycle, 1cycle', 'one_cycle:TOTAL[:PEAK][:start=VALUE][:end=VALUE][:pct_start=VALUE][:anneal=VALUE][:three_phase=VALUE][:div=VALUE][:final_div=VALUE]'),
            ('cyclic', 'clr', 'cyclic:LOW:HIGH:UP[:DOWN][:mode=VALUE][:gamma=VALUE]'),
            ('reduce_on_plateau', 'plateau', 'reduce_on_plateau[:FACTOR][:PATIENCE][:mode=VALUE][:threshold=VALUE][:threshold_mode=VALUE][:cooldown=VALUE][:min_value=VALUE][:eps=VALUE][:init=VALUE]'),
        ],
    },
    'problems': {
        'digest': '1e5e3c1ca50b6c14',
        'rows': [
            ('name', 'description'),
            ('moons', 'Noisy two moons (scikit-learn make_moons), a 2-class MLP with depth tanh layers'),
            ('digits_mlp', "scikit-learn's 8x8 handwritten digits (1797 images, 10 classes)... [model=mlp]"),
            ('digits_cnn', "scikit-learn's 8x8 handwritten digits (1797 images, 10 classes)... [model=cnn]"),
            ('logreg', 'Multinomial logistic regression (one linear layer, softmax cross-entropy) on...'),
            ('mnist1d', 'MNIST-1D (Greydanus and Steinbach 2020): 40-sample 1-D signals of 10 digit...'),
            ('mnist', 'MNIST from the four IDX files in directory path (the t10k set is the...'),
            ('fashion_mnist', 'Fashion-MNIST from its four IDX files in directory path (same layout as MNIST)'),
            ('cifar10', 'CIFAR-10 from the python-version batches in directory path (test_batch is...'),
        ],
    },
    'examples': {
        'digest': '2c5830eac4b839c3',
        'rows': [
            ('name', 'problems', 'optimizers', 'protocol', 'seeds'),
            ('digits', 'digits_mlp', 'sgd, momentum, rmsprop, adam', 'two_stage', '3'),
            ('profile', 'moons, digits_mlp, logreg, logreg_wine', 'sgd, momentum, adam', 'grid', '2'),
        ],
    },
    'landscapes': {
        'digest': '822874d0d6b44554',
        'rows': [
            ('name', 'dim', 'global minimum', 'model', 'options', 'description'),
            ('saddle', '2', 'none (saddle)', '-', '-', 'x^2 - y^2: a saddle point at the origin, unbounded below along y.'),
            ('monkey_saddle', '2', 'none (saddle)', '-', '-', 'x^3 - 3xy^2: a monkey saddle with three descending valleys.'),
            ('quadratic', '2', '0 at (0, 0)', 'least squares', 'condition=10.0, curvature=1.0, dim=2, angle=0.0', 'A quadratic ravine with condition number 10.'),
            ('rosenbrock', '2', '0 at (1, 1)', 'least squares', 'dim=2, a=1.0, b=100.0', "Rosenbrock's banana: a long, narrow, curved valley."),
            ('beale', '2', '0 at (3, 0.5)', 'least squares', '-', "Beale's function: sharp corners, flat plateaus, minimum 0 at (3, 0.5)."),
            ('booth', '2', '0 at (1, 3)', 'least squares', '-', "Booth's function: a tilted convex quadratic, minimum 0 at (1, 3)."),
            ('himmelblau', '2', '0 at (3, 2)', 'least squares', '-', "Himmelblau's function: four global minima of value 0."),
            ('rastrigin', '2', '0 at (0, 0)', '-', 'dim=2, amplitude=10.0', "Rastrigin's function: a regular grid of local minima on a bowl."),
            ('ackley', '2', '0 at (0, 0)', '-', 'dim=2', "Ackley's function: a nearly flat outer region with many local minima."),
            ('styblinski_tang', '2', '-78.3323 at (-2.904, -2.904)', '-', 'dim=2', 'Styblinski-Tang: 2^d minima, the global one near (-2.9035, ...).'),
            ('goldstein_price', '2', '3 at (0, -1)', '-', '-', 'Goldstein-Price: values over six decades, minimum 3 at (0, -1).'),
            ('three_hump_camel', '2', '0 at (0, 0)', '-', '-', 'Three-hump camel: global minimum 0 at the origin, two local minima.'),
            ('six_hump_camel', '2', '-1.03163 at (0.08984, -0.7127)', '-', '-', 'Six-hump camel: two global minima of -1.0316 and four local ones.'),
            ('plateau', '2', '-1 at (1.4, -1.1)', '-', '-', 'A plateau with a shallow local well and a deeper global well.'),
            ('moons', '2', '0.299383 at (1.036, -2.481)', 'logistic, linear layer', 'n_samples=200, noise=0.2, batch_size=16, data_seed=0', 'Logistic regression (2 weights, no bias) on 200 noisy two moons (noise 0.2), mini-batches of 16.'),
        ],
    },
}
