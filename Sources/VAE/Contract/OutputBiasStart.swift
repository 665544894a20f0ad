import Foundation
import NN

/// How the decoder's last bias starts before training.
///
/// `.dataMean` is the initialisation of Burda, Grosse and Salakhutdinov's code for the IWAE paper
/// (2016, github.com/yburda/iwae, `get_train_bias_np`): the output bias starts at the logits of
/// the mean training image, logit(clip(x̄, 0.001, 0.999)) per pixel, so the untrained decoder
/// already gives p(x | z) ≈ Bernoulli(x̄) and the first updates shape digits instead of learning
/// the background. Other likelihoods start at their own parameters for x̄
/// (`Likelihood.startingOutputBias(_:forMeans:channels:)`).
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
    /// [0, 1]: for a per-value bias, `Likelihood.startingOutputBias(_:forMeans:channels:)` of
    /// it; for a per-channel bias (a convolution), of each channel's mean.
    /// - Throws: `ConfigurationProblem` when the model's likelihood has no such start.
    func startOutputBias(atMeanImage means: [Float]) throws(ConfigurationProblem)
}

extension Likelihood {
    /// The decoder's last bias started from the mean training image. `means` holds C planar
    /// values in [0, 1] per position (C · N: N = H · W for a bias per value, N = 1 for a bias per
    /// channel), `bias` the decoder's P · N drawn values (planar, P = `parameterChannels`). The
    /// Bernoulli and both Gaussians, whose mean is σ(output), start every value at
    /// logit(clip(m, 0.001, 0.999)) (Burda et al.'s clip keeps all-black border pixels finite).
    /// The discretised logistics start each component's location at the mean level 2m − 1 and
    /// a mixture's channel coefficients at 0, keeping the drawn log-scales and mixture logits,
    /// so that every component's mean starts at the data's. Nil for a likelihood without such a
    /// start.
    public func startingOutputBias(_ bias: [Float], forMeans means: [Float], channels: Int) -> [Float]? {
        let positions = means.count / channels
        precondition(positions * channels == means.count && bias.count == parameterChannels(imageChannels: channels) * positions,
                     "a bias of \(bias.count) values for \(means.count) means of \(channels) channels")
        switch self {
        case .bernoulli, .gaussian, .learnedGaussian:
            return means.map { value in
                let clipped = Swift.min(Swift.max(value, 0.001), 0.999)
                return Foundation.log(clipped / (1 - clipped))
            }
        case .discretizedLogistic, .logisticMixture:
            let layout = if case let .logisticMixture(components) = self {
                DiscretizedLogisticLayout.mixture(channels: channels, components: components)
            } else {
                DiscretizedLogisticLayout.single(channels: channels)
            }
            var started = bias
            for component in 0..<layout.components {
                for channel in 0..<channels {
                    for position in 0..<positions {
                        started[layout.meanChannel(component, channel) * positions + position] = 2 * means[channel * positions + position] - 1
                    }
                    guard layout.isMixture else { continue }
                    for earlier in 0..<channel {
                        for position in 0..<positions { started[layout.coefficientChannel(component, channel, earlier) * positions + position] = 0 }
                    }
                }
            }
            return started
        }
    }

    /// The problem `--output-bias data-mean` has with this likelihood (nil when it can start so).
    public var outputBiasStartProblem: ConfigurationProblem? {
        let probe = [Float](repeating: 0, count: parameterChannels(imageChannels: 1))
        guard startingOutputBias(probe, forMeans: [0.5], channels: 1) == nil else { return nil }
        return ConfigurationProblem(.outputBias, "data-mean needs a likelihood whose parameters can start at the data's mean; \(name.rawValue) has none")
    }
}
