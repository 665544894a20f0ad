import TensorCore

/// An exponential moving average of a model's parameters, kept beside the weights the
/// optimizer trains; a run evaluates and saves the average (Polyak averaging with a decay).
/// After optimizer step t (from 1):
///
///     θ̄_1 = θ_1,   θ̄_t = d_t θ̄_{t−1} + (1 − d_t) θ_t,   d_t = min(d, (1 + t) / (10 + t)),
///
/// so the average covers about the last 1 / (1 − d) steps, and fewer early on, when a long
/// average would still hold the random start (TensorFlow's `ExponentialMovingAverage` with
/// `num_updates`). The average of the last iterates removes much of the noise a small batch
/// leaves in the last one (Polyak & Juditsky 1992; Izmailov et al. 2018, "Averaging Weights
/// Leads to Wider Optima and Better Generalization"). Only parameters are averaged: state a
/// model keeps outside them (a codebook's usage averages) is the live model's.
public final class WeightAverage {
    /// The checkpoint's tensors of the averages: "weight_average.0", "weight_average.1", … in
    /// the parameters' order.
    public static let stateName = "weight_average"
    /// The decay d, in (0, 1).
    public let decay: Double
    /// The parameters averaged (the model's, as the optimizer was given them), in order.
    public let parameters: [Tensor]
    /// The average of each parameter, flat; empty before the first step.
    public private(set) var averages: [[Float]] = []

    /// An average of `parameters` with decay `decay`, empty until the first `update`.
    public init(decay: Double, parameters: [Tensor]) {
        precondition(decay > 0 && decay < 1, "the decay lies in (0, 1)")
        (self.decay, self.parameters) = (decay, parameters)
    }

    /// The decay d_t applied after step `step` (from 1).
    public func decay(afterStep step: Int) -> Double { min(decay, Double(1 + step) / Double(10 + step)) }

    /// Folds the parameters' values after optimizer step `step` (from 1) into the average.
    public func update(afterStep step: Int) {
        precondition(step >= 1, "steps count from 1")
        if averages.isEmpty {
            averages = parameters.map { Array(UnsafeBufferPointer(start: $0.pointer, count: $0.count)) }
            return
        }
        let kept = Float(decay(afterStep: step)), taken = 1 - kept
        for (index, parameter) in parameters.enumerated() {
            let values = parameter.pointer
            averages[index].withUnsafeMutableBufferPointer { average in
                for position in 0..<average.count { average[position] = kept * average[position] + taken * values[position] }
            }
        }
    }

    /// Exchanges the parameters' values with the average's (twice: back as they were). Does
    /// nothing before the first step.
    public func exchange() {
        guard !averages.isEmpty else { return }
        for (index, parameter) in parameters.enumerated() {
            let values = parameter.pointer
            averages[index].withUnsafeMutableBufferPointer { average in
                for position in 0..<average.count { swap(&average[position], &values[position]) }
            }
        }
    }

    /// Puts back the averages a checkpoint saved (empty: before the first step), after checking
    /// them against the parameters; returns what is wrong (the parameter's index and the
    /// problem), if anything.
    public func restore(_ saved: [[Float]]) -> (index: Int, problem: String)? {
        if saved.isEmpty {
            averages = []
            return nil
        }
        guard saved.count == parameters.count else {
            return (min(saved.count, parameters.count), "expected averages of \(parameters.count) parameters, got \(saved.count)")
        }
        for (index, (values, parameter)) in zip(saved, parameters).enumerated() {
            guard values.count == parameter.count else { return (index, "holds \(values.count) values, the parameter \(parameter.count)") }
            if let position = values.firstIndex(where: { !$0.isFinite }) { return (index, "holds \(values[position]) at index \(position)") }
        }
        averages = saved
        return nil
    }
}
