import Foundation

/// Histogram discretisation and discrete information, as disentanglement_lib computes them for
/// MIG and its unsupervised scores (NumPy's `histogram` and `digitize`, scikit-learn's
/// `mutual_info_score`), in nats.
public enum Discretization {
    /// Each value's bin among `bins` equal bins from the values' minimum to their maximum
    /// (NumPy's `histogram` edges; when every value is equal, the range is value ± 0.5), numbered
    /// 1 ... bins as `np.digitize(values, edges[:-1])` numbers them: the count of lower edges at
    /// or below the value.
    public static func histogramBins(_ values: [Double], bins: Int = 20) -> [Int] {
        precondition(bins >= 1 && !values.isEmpty)
        var low = values.min()!, high = values.max()!
        if low == high { (low, high) = (low - 0.5, high + 0.5) }
        let step = (high - low) / Double(bins)
        let edges = (0..<bins).map { Double($0) * step + low }
        return values.map { value in
            // The number of edges <= value (edges increase), by binary search.
            var (lower, upper) = (0, bins)
            while lower < upper {
                let middle = (lower + upper) / 2
                if edges[middle] <= value { lower = middle + 1 } else { upper = middle }
            }
            return lower
        }
    }

    /// The mutual information, in nats, between two labelings of the same items:
    /// Σ_ij (n_ij / N) log(N n_ij / (a_i b_j)) over the contingency table n.
    public static func mutualInformation(_ first: [Int], _ second: [Int]) -> Double {
        precondition(first.count == second.count && !first.isEmpty)
        let (firstCodes, firstCount) = compact(first), (secondCodes, secondCount) = compact(second)
        var table = [Int](repeating: 0, count: firstCount * secondCount)
        var (rows, columns) = ([Int](repeating: 0, count: firstCount), [Int](repeating: 0, count: secondCount))
        for (a, b) in zip(firstCodes, secondCodes) {
            table[a * secondCount + b] += 1
            rows[a] += 1
            columns[b] += 1
        }
        let total = Double(first.count)
        var information = 0.0
        for a in 0..<firstCount {
            for b in 0..<secondCount where table[a * secondCount + b] > 0 {
                let joint = Double(table[a * secondCount + b])
                information += joint / total * log(total * joint / (Double(rows[a]) * Double(columns[b])))
            }
        }
        return max(information, 0)
    }

    /// The entropy, in nats, of a labeling (its mutual information with itself).
    public static func entropy(_ labels: [Int]) -> Double { mutualInformation(labels, labels) }

    /// The labels renumbered 0 ..< distinct, and the number of distinct labels.
    static func compact(_ labels: [Int]) -> ([Int], Int) {
        var numbers: [Int: Int] = [:]
        let compacted = labels.map { label in
            if let number = numbers[label] { return number }
            numbers[label] = numbers.count
            return numbers.count - 1
        }
        return (compacted, numbers.count)
    }
}
