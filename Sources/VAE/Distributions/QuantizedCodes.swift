import Foundation
import TensorCore

/// The posterior of a VQ-VAE (van den Oord et al. 2017): one-hot on the nearest codes, so z is
/// the grid of chosen codebook vectors. Over `positions` code positions of `codeDimension`
/// values each, z is [rows, positions · codeDimension] (position-major: position p's vector is
/// columns p · D ..< (p + 1) · D), and `indices` holds the chosen code of every position,
/// [rows · positions] row-major.
///
/// q(k | x) is deterministic: log q = 0 at its own codes (the only z it ever gives), and a
/// draw is the codes themselves whatever the noise. With the uniform prior over K codes per
/// position the KL is positions · log K, a constant (the paper's section 3.1).
public struct QuantizedCodes: ReparameterizedDistribution {
    /// The chosen codes' values, [rows, positions · codeDimension], with the straight-through
    /// gradient to the encoder.
    public let values: Tensor
    /// The chosen code of every position, [rows · positions].
    public let indices: [Int32]
    /// The code positions per row (the grid's height times width).
    public let positions: Int
    /// K, the codebook's size.
    public let codebookSize: Int
    /// The encoder's outputs z_e the codes were chosen for, [rows · positions, D], from which a
    /// model computes its commitment loss (nil once the rows are repeated for several samples).
    public let encoderRows: Tensor?

    /// The codes `indices` with their values [rows, positions · D], chosen for `encoderRows`.
    public init(values: Tensor, indices: [Int32], positions: Int, codebookSize: Int, encoderRows: Tensor? = nil) {
        precondition(values.rank == 2 && positions > 0 && values.shape[1] % positions == 0, "values must be [rows, positions · D], got \(values.shape)")
        precondition(indices.count == values.shape[0] * positions, "one index per position: \(indices.count) for \(values.shape[0]) rows of \(positions)")
        (self.values, self.indices, self.positions, self.codebookSize, self.encoderRows) = (values, indices, positions, codebookSize, encoderRows)
    }

    /// The rows, one grid of codes each.
    public var rows: Int { values.shape[0] }
    /// The values per row: positions · D.
    public var dimension: Int { values.shape[1] }
    /// The codes' values: a point mass's mean.
    public var mean: Tensor { values }

    /// The codes, whatever the noise.
    public func sample(noise: Tensor) -> Tensor { values }

    /// log q(z) = 0 per row: q is one-hot on the codes it chose, and z is always those codes.
    public func logProbability(_ z: Tensor) -> Tensor {
        precondition(z.shape == values.shape, "z must be the codes' shape \(values.shape), got \(z.shape)")
        return Tensor.zeros([rows])
    }

    public func repeatingRows(_ k: Int) -> QuantizedCodes {
        guard k > 1 else { return self }
        var repeated: [Int32] = []
        repeated.reserveCapacity(indices.count * k)
        for row in 0..<rows {
            let codes = indices[(row * positions)..<((row + 1) * positions)]
            for _ in 0..<k { repeated.append(contentsOf: codes) }
        }
        return QuantizedCodes(values: values.repeatingRows(k), indices: repeated, positions: positions, codebookSize: codebookSize)
    }
}

/// The uniform prior over a grid of codes: each of `positions` positions takes any of K codes
/// with probability 1 / K, so log p(z) = −positions · log K for every grid of codes (a VQ-VAE's
/// prior while it trains; an autoregressive prior is fitted afterwards).
public struct UniformCodes: LatentDistribution, Equatable, Sendable {
    /// The code positions.
    public let positions: Int
    /// K, the codebook's size.
    public let codebookSize: Int
    /// The values per row of z (positions · D).
    public let dimension: Int

    /// The uniform distribution over `codebookSize` codes at each of `positions` positions, z of `dimension` values.
    public init(positions: Int, codebookSize: Int, dimension: Int) {
        precondition(positions > 0 && codebookSize > 0 && dimension > 0, "need positions, codes and a dimension")
        (self.positions, self.codebookSize, self.dimension) = (positions, codebookSize, dimension)
    }

    /// −positions · log K per row, [rows].
    public func logProbability(_ z: Tensor) -> Tensor {
        precondition(z.rank == 2 && z.shape[1] == dimension, "z must be [rows, \(dimension)], got \(z.shape)")
        return Tensor(shape: [z.shape[0]], repeating: Float(-Double(positions) * log(Double(codebookSize))))
    }

    /// The KL of any grid of codes to this prior: positions · log K nats.
    public var klDivergence: Double { Double(positions) * log(Double(codebookSize)) }
}
