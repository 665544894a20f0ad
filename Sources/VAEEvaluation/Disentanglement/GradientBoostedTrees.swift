import Foundation

/// A gradient-boosted tree classifier as scikit-learn's `GradientBoostingClassifier()` defaults
/// define it (Friedman 2001, "Greedy Function Approximation"), the regressor disentanglement_lib's
/// DCI uses: 100 stages at learning rate 0.1; each stage fits, per class (one tree for two
/// classes), a regression tree of depth 3 to the log-loss's negative gradient y − p with
/// Friedman's mean-squared-error split criterion (the split maximising n_l n_r (ȳ_l − ȳ_r)²
/// over thresholds halfway between neighbouring values more than 1e-7 apart), then sets each
/// leaf to one Newton step, (K − 1)/K · Σ(y − p) / Σ p(1 − p) (without the (K − 1)/K for two
/// classes). The raw scores start at the log class priors. A feature's importance is the
/// impurity (variance) decrease of the splits on it, summed over every tree and normalised to
/// sum 1. Features are Float, as scikit-learn's trees take them.
public struct GradientBoostedTrees: Sendable {
    /// A regression tree: internal nodes split on feature <= threshold (left), leaves hold values.
    struct Tree: Sendable {
        var feature: [Int] = []      // -1 at a leaf
        var threshold: [Double] = []
        var left: [Int] = []
        var right: [Int] = []
        var value: [Double] = []

        func leaf(of point: [Float]) -> Int {
            var node = 0
            while feature[node] >= 0 { node = Double(point[feature[node]]) <= threshold[node] ? left[node] : right[node] }
            return node
        }
    }

    /// The classes, in increasing order.
    public let classes: [Int]
    /// Each feature's share of the impurity decrease.
    public let featureImportances: [Double]
    let initial: [Double]
    let stages: [[Tree]]
    let learningRate: Double

    /// Fits to `points` ([points][features]) and `labels`.
    public init(points: [[Float]], labels: [Int], stageCount: Int = 100, learningRate: Double = 0.1, depth: Int = 3) {
        precondition(points.count == labels.count && !points.isEmpty)
        let classes = Array(Set(labels)).sorted()
        self.classes = classes
        self.learningRate = learningRate
        let n = points.count, d = points[0].count, k = classes.count
        precondition(k >= 2, "a classifier needs two classes")
        let targets = labels.map { classes.firstIndex(of: $0)! }
        let priors = (0..<k).map { c in Double(targets.filter { $0 == c }.count) / Double(n) }
        let trees = k == 2 ? 1 : k
        initial = k == 2 ? [log(priors[1] / priors[0])] : priors.map(log)
        // Each feature's samples in increasing order, once.
        let columns = (0..<d).map { f in points.map { $0[f] } }
        let orders = columns.map { column in (0..<n).sorted { (column[$0], $0) < (column[$1], $1) } }
        var raw = [[Double]](repeating: initial, count: n)
        var importances = [Double](repeating: 0, count: d)
        var stages: [[Tree]] = []
        for _ in 0..<stageCount {
            // Probabilities before this stage (every class's tree sees the same ones).
            let probabilities = raw.map { scores -> [Double] in
                if k == 2 { return [1 / (1 + exp(-scores[0]))] }
                let top = scores.max()!
                let exponentials = scores.map { exp($0 - top) }
                let total = exponentials.reduce(0, +)
                return exponentials.map { $0 / total }
            }
            var stage: [Tree] = []
            for c in 0..<trees {
                let positive = k == 2 ? 1 : c
                let residuals = (0..<n).map { (targets[$0] == positive ? 1.0 : 0.0) - probabilities[$0][c] }
                var (tree, leaves) = Self.fitTree(columns: columns, orders: orders, residuals: residuals, depth: depth, importances: &importances)
                // One Newton step per leaf.
                var (numerators, denominators) = ([Double](repeating: 0, count: tree.value.count), [Double](repeating: 0, count: tree.value.count))
                for i in 0..<n {
                    numerators[leaves[i]] += residuals[i]
                    denominators[leaves[i]] += probabilities[i][c] * (1 - probabilities[i][c])
                }
                let factor = k == 2 ? 1 : Double(k - 1) / Double(k)
                for node in tree.value.indices where tree.feature[node] < 0 {
                    tree.value[node] = abs(denominators[node]) < 1e-150 ? 0 : factor * numerators[node] / denominators[node]
                }
                for i in 0..<n { raw[i][c] += learningRate * tree.value[leaves[i]] }
                stage.append(tree)
            }
            stages.append(stage)
        }
        self.stages = stages
        let total = importances.reduce(0, +)
        featureImportances = total > 0 ? importances.map { $0 / total } : importances
    }

    /// A regression tree of `depth` fitted to `residuals`, and each point's leaf; adds each
    /// split's impurity decrease (n · variance before − the children's) to `importances`.
    /// `columns` holds the features feature-major ([features][points]); `orders` each feature's
    /// points in increasing order.
    static func fitTree(columns: [[Float]], orders: [[Int]], residuals: [Double], depth maximumDepth: Int,
                        importances: inout [Double]) -> (Tree, [Int]) {
        let n = residuals.count, d = orders.count
        var tree = Tree()
        var node = [Int](repeating: 0, count: n)
        var sums: [Double] = [], squares: [Double] = [], counts: [Int] = []
        func addNode(sum: Double, square: Double, count: Int) -> Int {
            tree.feature.append(-1); tree.threshold.append(0); tree.left.append(-1); tree.right.append(-1)
            tree.value.append(sum / Double(count))
            sums.append(sum); squares.append(square); counts.append(count)
            return tree.value.count - 1
        }
        _ = addNode(sum: residuals.reduce(0, +), square: residuals.reduce(0) { $0 + $1 * $1 }, count: n)
        var level = [0]
        for _ in 0..<maximumDepth {
            // A node with one point, or no spread (variance at most the double epsilon), is a leaf.
            let open = level.filter { counts[$0] >= 2 && squares[$0] / Double(counts[$0]) - pow(sums[$0] / Double(counts[$0]), 2) > Double.ulpOfOne }
            if open.isEmpty { break }
            let nodeCount = tree.value.count
            var isOpen = [Bool](repeating: false, count: nodeCount)
            for id in open { isOpen[id] = true }
            var bestProxy = [Double](repeating: -.infinity, count: nodeCount), bestFeature = [Int](repeating: -1, count: nodeCount)
            var bestThreshold = [Double](repeating: 0, count: nodeCount)
            var leftCount = [Int](repeating: 0, count: nodeCount), leftSum = [Double](repeating: 0, count: nodeCount)
            var previous = [Double](repeating: 0, count: nodeCount)
            for f in 0..<d {
                for id in open { (leftCount[id], leftSum[id]) = (0, 0) }
                columns[f].withUnsafeBufferPointer { column in
                    for s in orders[f] {
                        let id = node[s]
                        guard isOpen[id] else { continue }
                        let value = Double(column[s])
                        let nl = leftCount[id]
                        if nl > 0 && value > previous[id] + 1e-7 {
                            let nr = counts[id] - nl
                            let sl = leftSum[id], sr = sums[id] - sl
                            let difference = Double(nr) * sl - Double(nl) * sr
                            let proxy = difference * difference / (Double(nl) * Double(nr))
                            if proxy > bestProxy[id] {
                                var threshold = previous[id] / 2 + value / 2
                                if threshold == value || threshold.isInfinite { threshold = previous[id] }
                                (bestProxy[id], bestFeature[id], bestThreshold[id]) = (proxy, f, threshold)
                            }
                        }
                        leftCount[id] = nl + 1
                        leftSum[id] += residuals[s]
                        previous[id] = value
                    }
                }
            }
            var next: [Int] = []
            var children = [Int](repeating: -1, count: nodeCount)  // the left child; the right is next to it
            for id in open where bestFeature[id] >= 0 {
                let feature = bestFeature[id], threshold = bestThreshold[id]
                tree.feature[id] = feature
                tree.threshold[id] = threshold
                var (sl, ql, nl, sr, qr, nr) = (0.0, 0.0, 0, 0.0, 0.0, 0)
                for s in 0..<n where node[s] == id {
                    let r = residuals[s]
                    if Double(columns[feature][s]) <= threshold { sl += r; ql += r * r; nl += 1 } else { sr += r; qr += r * r; nr += 1 }
                }
                let left = addNode(sum: sl, square: ql, count: nl), right = addNode(sum: sr, square: qr, count: nr)
                (tree.left[id], tree.right[id]) = (left, right)
                children[id] = left
                func impurityMass(_ node: Int) -> Double { squares[node] - sums[node] * sums[node] / Double(counts[node]) }
                importances[feature] += (impurityMass(id) - impurityMass(left) - impurityMass(right)) / Double(n)
                next += [left, right]
            }
            for s in 0..<n where node[s] < nodeCount && children[node[s]] >= 0 {
                let id = node[s]
                node[s] = Double(columns[tree.feature[id]][s]) <= tree.threshold[id] ? tree.left[id] : tree.right[id]
            }
            level = next
        }
        return (tree, node)
    }

    /// The predicted class of `point`.
    public func predict(_ point: [Float]) -> Int {
        var scores = initial
        for stage in stages {
            for (c, tree) in stage.enumerated() { scores[c] += learningRate * tree.value[tree.leaf(of: point)] }
        }
        if classes.count == 2 { return classes[scores[0] > 0 ? 1 : 0] }
        var best = 0
        for c in scores.indices where scores[c] > scores[best] { best = c }
        return classes[best]
    }

    /// The share of `points` predicted their `labels`.
    public func accuracy(points: [[Float]], labels: [Int]) -> Double {
        Double(zip(points, labels).filter { predict($0.0) == $0.1 }.count) / Double(points.count)
    }
}
