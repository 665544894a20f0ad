import Foundation

/// How the learning rate changes over epochs.
public enum LearningRateSchedule: Codable, Equatable, Sendable {
    /// The configured rate throughout.
    case constant
    /// Burda et al.'s schedule: stage i = 0 ..< stages runs 3^i epochs at rate r · 10^(-i/7)
    /// (the paper: 8 stages, 3,280 epochs, r = 1e-3).
    case iwaePaper(stages: Int)

    /// The epochs the schedule takes, or nil when it does not fix them.
    public var epochs: Int? {
        switch self {
        case .constant: nil
        case let .iwaePaper(stages): (0..<stages).reduce(0) { total, stage in total + Int(pow(3.0, Double(stage))) }
        }
    }

    /// The rate for epoch `epoch` (1-based) given the base rate.
    public func learningRate(base: Float, epoch: Int) -> Float {
        switch self {
        case .constant: return base
        case let .iwaePaper(stages):
            var end = 0
            for stage in 0..<stages {
                end += Int(pow(3.0, Double(stage)))
                if epoch <= end { return base * Float(pow(10.0, -Double(stage) / 7)) }
            }
            return base * Float(pow(10.0, -Double(max(stages - 1, 0)) / 7))
        }
    }

    /// A short description for logs and reports.
    public var summary: String {
        switch self {
        case .constant: "constant"
        case let .iwaePaper(stages): "IWAE paper's: \(stages) stages of 3^i epochs at rate x 10^(-i/7), \(epochs!) epochs"
        }
    }
}

extension LearningRateSchedule {
    /// The factor of the short fits' schedule (the feature classifiers, the second-stage
    /// sampler): 1 for the first half of `epochs`, ½ for the next quarter, ¼ for the last.
    /// `epoch` counts from 1.
    public static func halvingFactor(epoch: Int, of epochs: Int) -> Float {
        let progress = Double(epoch - 1) / Double(epochs)
        return progress < 0.5 ? 1 : progress < 0.75 ? 0.5 : 0.25
    }
}
