"""Reference figures for the disentanglement metrics, written from disentanglement_lib's
published definitions (google-research/disentanglement_lib, evaluation/metrics: beta_vae.py,
factor_vae.py, mig.py, sap_score.py, dci.py, unsupervised_metrics.py, utils.py), with the same
scikit-learn models it uses.

It draws the metrics' points as disentanglement_lib does (numpy RandomState, factors sampled
class by class), on small factor grids whose codes are known functions of the factors, and
writes the codes, every draw and every figure to an .npz file that the Swift tests read:
Tests/VAETests/Fixtures/disentanglement-reference.npz. The Swift metrics must agree within
0.005 (0.01 for the classifier-based BetaVAE, FactorVAE, SAP and DCI scores).

    pip install numpy scipy scikit-learn
    python3 reference/disentanglement_metrics.py Tests/VAETests/Fixtures/disentanglement-reference.npz
"""
import sys

import numpy as np
import scipy.linalg
import scipy.stats
import sklearn.metrics
from sklearn import ensemble, linear_model, svm

# A small grid in dSprites' form: a constant colour, then shape, scale, orientation, x, y.
GRID = [1, 3, 4, 5, 6, 6]
FACTORS = [1, 2, 3, 4, 5]  # the factors that vary, as disentanglement_lib's DSprites keeps them
SIZES = [GRID[i] for i in FACTORS]
COUNT = int(np.prod(GRID))
NUM_TRAIN, NUM_TEST, BATCH, NUM_VARIANCE = 1000, 500, 16, 1000


def classes_of_all_images():
    """[COUNT, 6] factor classes, the last factor fastest (dSprites' order)."""
    return np.array(np.unravel_index(np.arange(COUNT), GRID)).T


def index_of(factors):
    """Image indices of rows of the varying factors' classes."""
    full = np.zeros((factors.shape[0], len(GRID)), dtype=np.int64)
    full[:, FACTORS] = factors
    return np.ravel_multi_index(full.T, GRID)


def sample_factors(n, random_state):
    """disentanglement_lib's SplitDiscreteStateSpace.sample_latent_factors."""
    factors = np.zeros((n, len(SIZES)), dtype=np.int64)
    for i, size in enumerate(SIZES):
        factors[:, i] = random_state.randint(size, size=n)
    return factors


def representations(seed):
    """Codes [COUNT, d] of three kinds, by name."""
    rng = np.random.RandomState(seed)
    classes = classes_of_all_images()[:, FACTORS].astype(np.float64)
    scaled = (classes - classes.mean(0)) / classes.std(0)
    noise = rng.normal(size=(COUNT, 7))
    aligned = np.concatenate([scaled + 0.05 * noise[:, :5], noise[:, 5:]], axis=1)
    ignoring = rng.normal(size=(COUNT, 6))
    mixed = aligned.copy()
    mixed[:, 0], mixed[:, 1] = scaled[:, 0] + scaled[:, 1] + 0.05 * noise[:, 0], scaled[:, 0] - scaled[:, 1] + 0.05 * noise[:, 1]
    return {"aligned": aligned.astype(np.float32), "ignoring": ignoring.astype(np.float32), "mixed": mixed.astype(np.float32)}


# --- draws, in disentanglement_lib's order ----------------------------------------------

def draw_images(n, random_state, batch_size=16):
    """utils.generate_batch_factor_code's draws: batches of batch_size."""
    indices = []
    i = 0
    while i < n:
        k = min(n - i, batch_size)
        indices.append(index_of(sample_factors(k, random_state)))
        i += k
    return np.concatenate(indices)


def draw_beta_vae(n, random_state):
    factor, first, second = [], [], []
    for _ in range(n):
        index = random_state.randint(len(SIZES))
        factors1 = sample_factors(BATCH, random_state)
        factors2 = sample_factors(BATCH, random_state)
        factors2[:, index] = factors1[:, index]
        factor.append(index)
        first.append(index_of(factors1))
        second.append(index_of(factors2))
    return np.array(factor), np.array(first), np.array(second)


def draw_factor_vae(n, random_state):
    factor, images = [], []
    for _ in range(n):
        index = random_state.randint(len(SIZES))
        factors = sample_factors(BATCH, random_state)
        factors[:, index] = factors[0, index]
        factor.append(index)
        images.append(index_of(factors))
    return np.array(factor), np.array(images)


# --- the metrics, as disentanglement_lib defines them ---------------------------------------

def histogram_discretize(target, num_bins=20):
    discretized = np.zeros_like(target)
    for i in range(target.shape[0]):
        discretized[i, :] = np.digitize(target[i, :], np.histogram(target[i, :], num_bins)[1][:-1])
    return discretized


def discrete_mutual_info(mus, ys):
    m = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            m[i, j] = sklearn.metrics.mutual_info_score(ys[j, :], mus[i, :])
    return m


def discrete_entropy(ys):
    return np.array([sklearn.metrics.mutual_info_score(ys[j, :], ys[j, :]) for j in range(ys.shape[0])])


def factor_columns(indices):
    return classes_of_all_images()[indices][:, FACTORS].T


def mig(mus, ys):
    m = discrete_mutual_info(histogram_discretize(mus), ys)
    entropy = discrete_entropy(ys)
    sorted_m = np.sort(m, axis=0)[::-1]
    return np.mean(np.divide(sorted_m[0, :] - sorted_m[1, :], entropy[:]))


def sap(mus, ys, mus_test, ys_test):
    score_matrix = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            classifier = svm.LinearSVC(C=0.01, class_weight="balanced")
            classifier.fit(mus[i, :][:, np.newaxis], ys[j, :])
            pred = classifier.predict(mus_test[i, :][:, np.newaxis])
            score_matrix[i, j] = np.mean(pred == ys_test[j, :])
    sorted_matrix = np.sort(score_matrix, axis=0)
    return np.mean(sorted_matrix[-1, :] - sorted_matrix[-2, :])


def dci(x_train, y_train, x_test, y_test):
    importance = np.zeros([x_train.shape[0], y_train.shape[0]])
    train_accuracy, test_accuracy = [], []
    for i in range(y_train.shape[0]):
        model = ensemble.GradientBoostingClassifier()
        model.fit(x_train.T, y_train[i, :])
        importance[:, i] = np.abs(model.feature_importances_)
        train_accuracy.append(np.mean(model.predict(x_train.T) == y_train[i, :]))
        test_accuracy.append(np.mean(model.predict(x_test.T) == y_test[i, :]))
    per_code = 1. - scipy.stats.entropy(importance.T + 1e-11, base=importance.shape[1])
    code_importance = importance.sum(axis=1) / importance.sum()
    per_factor = 1. - scipy.stats.entropy(importance + 1e-11, base=importance.shape[0])
    factor_importance = importance.sum(axis=0) / importance.sum()
    return np.sum(per_code * code_importance), np.sum(per_factor * factor_importance), np.mean(train_accuracy), np.mean(test_accuracy)


def beta_vae(codes, train, evaluation):
    def points(draws):
        factor, first, second = draws
        return np.mean(np.abs(codes[first] - codes[second]), axis=1), factor
    train_points, train_labels = points(train)
    model = linear_model.LogisticRegression(random_state=np.random.RandomState(0))
    model.fit(train_points, train_labels)
    eval_points, eval_labels = points(evaluation)
    return np.mean(model.predict(train_points) == train_labels), model.score(eval_points, eval_labels)


def factor_vae(codes, variance_images, train, evaluation):
    global_variances = np.var(codes[variance_images], axis=0, ddof=1)
    active_dims = np.sqrt(global_variances) >= 0.05
    if not active_dims.any():
        return 0., 0.

    def votes(draws):
        factor, images = draws
        table = np.zeros((len(SIZES), global_variances.shape[0]), dtype=np.int64)
        for k, batch in zip(factor, images):
            local_variances = np.var(codes[batch], axis=0, ddof=1)
            argmin = np.argmin(local_variances[active_dims] / global_variances[active_dims])
            table[k, argmin] += 1
        return table
    training_votes = votes(train)
    classifier = np.argmax(training_votes, axis=0)
    other_index = np.arange(training_votes.shape[1])
    train_accuracy = np.sum(training_votes[classifier, other_index]) * 1. / np.sum(training_votes)
    eval_votes = votes(evaluation)
    return train_accuracy, np.sum(eval_votes[classifier, other_index]) * 1. / np.sum(eval_votes)


def unsupervised(mus):
    num_codes = mus.shape[0]
    cov = np.cov(mus)
    total_correlation = 0.5 * (np.sum(np.log(np.diag(cov))) - np.linalg.slogdet(cov)[1])
    sqrtm = scipy.linalg.sqrtm(cov * np.expand_dims(np.diag(cov), axis=1))
    wasserstein = 2 * np.trace(cov) - 2 * np.trace(sqrtm)
    discrete = histogram_discretize(mus)
    m = discrete_mutual_info(discrete, discrete)
    np.fill_diagonal(m, 0)
    return total_correlation, np.real(wasserstein), np.real(wasserstein) / np.sum(np.diag(cov)), np.sum(m) / (num_codes ** 2 - num_codes)


def main(path):
    np.random.seed(0)  # GradientBoostingClassifier's feature order (random_state=None)
    out = {"grid": np.array(GRID, dtype=np.int64)}
    state = np.random.RandomState(0)
    out["mig_images"] = draw_images(2 * NUM_TRAIN, state)
    state = np.random.RandomState(0)
    out["sap_train"], out["sap_test"] = draw_images(NUM_TRAIN, state), draw_images(NUM_TEST, state)
    out["beta_vae_train_factor"], out["beta_vae_train_first"], out["beta_vae_train_second"] = train_beta = draw_beta_vae(NUM_TRAIN, np.random.RandomState(1))
    out["beta_vae_eval_factor"], out["beta_vae_eval_first"], out["beta_vae_eval_second"] = eval_beta = draw_beta_vae(NUM_TEST, np.random.RandomState(2))
    state = np.random.RandomState(3)
    out["factor_vae_variance"] = draw_images(NUM_VARIANCE, state, batch_size=64)
    out["factor_vae_train_factor"], out["factor_vae_train_images"] = train_factor = draw_factor_vae(NUM_TRAIN, state)
    out["factor_vae_eval_factor"], out["factor_vae_eval_images"] = eval_factor = draw_factor_vae(NUM_TEST, state)
    for name, codes in representations(7).items():
        out["codes_" + name] = codes
        c = codes.astype(np.float64)
        figures = {}
        figures["mig"] = mig(c[out["mig_images"]].T, factor_columns(out["mig_images"]))
        train, test = out["sap_train"], out["sap_test"]
        figures["sap"] = sap(c[train].T, factor_columns(train), c[test].T, factor_columns(test))
        figures["dci_disentanglement"], figures["dci_completeness"], figures["dci_informativeness_train"], figures["dci_informativeness_test"] = \
            dci(c[train].T, factor_columns(train), c[test].T, factor_columns(test))
        figures["beta_vae_train"], figures["beta_vae_eval"] = beta_vae(c, train_beta, eval_beta)
        figures["factor_vae_train"], figures["factor_vae_eval"] = factor_vae(c, out["factor_vae_variance"], train_factor, eval_factor)
        (figures["gaussian_total_correlation"], figures["gaussian_wasserstein_correlation"],
         figures["gaussian_wasserstein_correlation_norm"], figures["mutual_info_score"]) = unsupervised(c[out["mig_images"]].T)
        for key, value in figures.items():
            out[f"{name}_{key}"] = np.array([value], dtype=np.float64)
            print(f"{name:9s} {key:40s} {value:.6f}")
    np.savez_compressed(path, **out)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "disentanglement-reference.npz")
