import Foundation

/// How the decoder's last bias starts before training.
///
/// `.dataMean` is the initialisation of Burda, Grosse and Salakhutdinov's code for the IWAE paper
/// (2016, github.com/yburda/iwae, `get_train_bias_np`): the output bias starts at the logits of
/// the mean training image, logit(clip(x̄, 0.001, 0.999)) per pixel, so the untrained decoder
/// already gives p(x | z) ≈ Bernoulli(x̄) and the first updates shape digits instead of learning
/// the background.
public enum OutputBiasStart: String, Codable, CaseIterable, Sendable {
    /// As the model's initializer draws it.
    case drawn
    /// At the likelihood's parameters for the mean training image (see the type's description).
    case dataMean = "data-mean"
}

/// A model whose decoder ends in a bias that can start at the data (`OutputBiasStart.dataMean`).
/// A model kind defined elsewhere conforms to offer `--output-bias data-mean`.
public protocol DataStartedOutputBias {
    /// Sets the decoder's last bias from the mean training image, [C · H · W] planar values in
    /// [0, 1]: for a per-value bias, `Likelihood.startingOutputs(forMeans:)` of it; for a
    /// per-channel bias (a convolution), of each channel's mean.
    /// - Throws: `ConfigurationProblem` when the model's likelihood has no such start.
    func startOutputBias(atMeanImage means: [Float]) throws(ConfigurationProblem)
}

extension Likelihood {
    /// The decoder outputs that make the likelihood's mean equal `means` (values in [0, 1]), for
    /// the likelihoods whose mean is σ(output): the Bernoulli and both Gaussians give
    /// logit(clip(m, 0.001, 0.999)) per value (Burda et al.'s clip keeps all-black border pixels
    /// finite). Nil for the discretised logistics, whose outputs are not one mean per value.
    public func startingOutputs(forMeans means: [Float]) -> [Float]? {
        switch self {
        case .bernoulli, .gaussian, .learnedGaussian:
            return means.map { value in
                let clipped = Swift.min(Swift.max(value, 0.001), 0.999)
                return Foundation.log(clipped / (1 - clipped))
            }
        case .discretizedLogistic, .logisticMixture:
            return nil
        }
    }

    /// The problem `--output-bias data-mean` has with this likelihood (nil when it can start so).
    public var outputBiasStartProblem: ConfigurationProblem? {
        guard startingOutputs(forMeans: [0.5]) == nil else { return nil }
        return ConfigurationProblem(.outputBias, "data-mean needs a likelihood whose mean is σ(output) (bernoulli, gaussian, gaussian-learned); \(name.rawValue) has none")
    }
}
