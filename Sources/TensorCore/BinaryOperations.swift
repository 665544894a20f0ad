// Binary elementwise operations with broadcasting.
//
// Shapes: the output has the shape of the larger operand, viewed as [rows, columns] with
// columns = its last dimension. The other operand is one of
//   full   - the same shape;
//   row    - shape [columns] or [1, columns], repeated over rows;
//   column - shape [rows, 1] against a rank-2 [rows, columns];
//   scalar - one element (shape [] or [1] or [1, 1]).
// Gradients are reduced back to each operand's shape (summed over the broadcast axes).

enum Broadcast {
    case full, row, column, scalar

    var isSplat: Bool { self == .column || self == .scalar }
}

struct BroadcastPlan {
    let shape: [Int]
    let rows: Int
    let columns: Int
    let left: Broadcast
    let right: Broadcast

    init(_ a: [Int], _ b: [Int]) {
        let countA = a.reduce(1, *), countB = b.reduce(1, *)
        if a == b || (countA == 1 && countB == 1) {
            shape = a.count >= b.count ? a : b
            (left, right) = (.full, .full)
        } else if let kind = BroadcastPlan.kind(of: b, against: a) {
            shape = a
            (left, right) = (.full, kind)
        } else if let kind = BroadcastPlan.kind(of: a, against: b) {
            shape = b
            (left, right) = (kind, .full)
        } else {
            preconditionFailure("shapes \(a) and \(b) do not broadcast (row, column or scalar only)")
        }
        let count = shape.reduce(1, *)
        columns = max(shape.last ?? 1, 1)
        rows = count == 0 ? 0 : count / columns
    }

    /// How `small` repeats to fill `large`, or nil when it does not.
    static func kind(of small: [Int], against large: [Int]) -> Broadcast? {
        let count = small.reduce(1, *)
        if count == 1 { return .scalar }
        guard let last = large.last else { return nil }
        if small == [last] || small == [1, last] { return .row }
        if large.count == 2, small == [large[0], 1] { return .column }
        return nil
    }
}

/// One operand of a broadcast loop: a pointer and how it repeats.
struct BroadcastOperand {
    let pointer: UnsafePointer<Float>
    let kind: Broadcast

    @inline(__always) func row(_ r: Int, _ columns: Int) -> UnsafePointer<Float> {
        kind == .full ? pointer + r &* columns : pointer
    }

    @inline(__always) func splat(_ r: Int) -> FloatVector {
        FloatVector(repeating: kind == .scalar ? pointer[0] : pointer[r])
    }
}

enum BroadcastKernels {
    /// out[r, c] (+)= op(a[r, c], b[r, c]) with a and b read through their broadcast.
    @inline(__always)
    static func combine(
        _ a: BroadcastOperand, _ b: BroadcastOperand, into out: UnsafeMutablePointer<Float>,
        rows: Int, columns: Int, accumulate: Bool, _ op: (FloatVector, FloatVector) -> FloatVector
    ) {
        // Two full operands form one long row, the fastest loop.
        let (rows, columns) = a.kind == .full && b.kind == .full ? (1, rows &* columns) : (rows, columns)
        for r in 0..<rows {
            let o = out + r &* columns
            switch (a.kind.isSplat, b.kind.isSplat) {
            case (false, false):
                let pa = a.row(r, columns), pb = b.row(r, columns)
                forEachVector(columns) { i, n in storeVector(op(loadVector(pa, i, n), loadVector(pb, i, n)), o, i, n, accumulate: accumulate) }
            case (true, false):
                let va = a.splat(r), pb = b.row(r, columns)
                forEachVector(columns) { i, n in storeVector(op(va, loadVector(pb, i, n)), o, i, n, accumulate: accumulate) }
            case (false, true):
                let pa = a.row(r, columns), vb = b.splat(r)
                forEachVector(columns) { i, n in storeVector(op(loadVector(pa, i, n), vb), o, i, n, accumulate: accumulate) }
            case (true, true):
                let v = op(a.splat(r), b.splat(r))
                forEachVector(columns) { i, n in storeVector(v, o, i, n, accumulate: accumulate) }
            }
        }
    }

    /// Sums a full [rows, columns] buffer down to an operand's broadcast shape into `gradient`.
    static func reduce(
        _ full: UnsafePointer<Float>, to kind: Broadcast, rows: Int, columns: Int,
        into gradient: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        switch kind {
        case .full:
            forEachVector(rows &* columns) { i, n in storeVector(loadVector(full, i, n), gradient, i, n, accumulate: accumulate) }
        case .row:
            for r in 0..<rows {
                let row = full + r &* columns
                let add = accumulate || r > 0
                forEachVector(columns) { i, n in storeVector(loadVector(row, i, n), gradient, i, n, accumulate: add) }
            }
        case .column:
            for r in 0..<rows {
                let total = vectorSum(full + r &* columns, columns)
                gradient[r] = accumulate ? gradient[r] + total : total
            }
        case .scalar:
            let total = vectorSum(full, rows &* columns)
            gradient[0] = accumulate ? gradient[0] + total : total
        }
    }
}

enum BinaryOperator {
    case add, subtract, multiply, divide
}

extension Tensor {
    static func binary(_ a: Tensor, _ b: Tensor, _ op: BinaryOperator) -> Tensor {
        let plan = BroadcastPlan(a.shape, b.shape)
        let (rows, columns) = (plan.rows, plan.columns)
        var outputStorage: TensorStorage? = nil
        let y = Tensor.result(shape: plan.shape, inputs: [a, b]) { g in
            let gradient = BroadcastOperand(pointer: g, kind: .full)
            let left = BroadcastOperand(pointer: a.pointer, kind: plan.left)
            let right = BroadcastOperand(pointer: b.pointer, kind: plan.right)
            /// Accumulates `side`'s share: `contribution` writes d(out)/d(side) * g in the
            /// output's shape (adding when told to); a broadcast side is then summed down.
            func propagate(to side: Tensor, kind: Broadcast,
                           _ contribution: (_ out: UnsafeMutablePointer<Float>, _ accumulate: Bool) -> Void) {
                side.accumulateGradient { sideGradient, accumulate in
                    if kind == .full { return contribution(sideGradient, accumulate) }
                    let scratch = TensorStorage(uninitializedCount: rows &* columns)
                    contribution(scratch.pointer, false)
                    BroadcastKernels.reduce(scratch.pointer, to: kind, rows: rows, columns: columns,
                                            into: sideGradient, accumulate: accumulate)
                }
            }
            func combine(_ x: BroadcastOperand, _ z: BroadcastOperand, _ out: UnsafeMutablePointer<Float>,
                         _ accumulate: Bool, _ f: (FloatVector, FloatVector) -> FloatVector) {
                BroadcastKernels.combine(x, z, into: out, rows: rows, columns: columns, accumulate: accumulate, f)
            }
            switch op {
            case .add, .subtract:
                let sign: Float = op == .add ? 1 : -1
                propagate(to: a, kind: plan.left) { out, acc in combine(gradient, gradient, out, acc) { g, _ in g } }
                propagate(to: b, kind: plan.right) { out, acc in combine(gradient, gradient, out, acc) { g, _ in sign * g } }
            case .multiply:
                propagate(to: a, kind: plan.left) { out, acc in combine(gradient, right, out, acc) { g, b in g * b } }
                propagate(to: b, kind: plan.right) { out, acc in combine(gradient, left, out, acc) { g, a in g * a } }
            case .divide:
                propagate(to: a, kind: plan.left) { out, acc in combine(gradient, right, out, acc) { g, b in g / b } }
                // d(a/b)/db = -(a/b) / b = -y / b.
                let output = BroadcastOperand(pointer: outputStorage!.pointer, kind: .full)
                propagate(to: b, kind: plan.right) { out, acc in
                    let scratch = TensorStorage(uninitializedCount: rows &* columns)
                    combine(gradient, output, scratch.pointer, false) { g, y in -g * y }
                    combine(BroadcastOperand(pointer: scratch.pointer, kind: .full), right, out, acc) { t, b in t / b }
                }
            }
        }
        let left = BroadcastOperand(pointer: a.pointer, kind: plan.left)
        let right = BroadcastOperand(pointer: b.pointer, kind: plan.right)
        switch op {
        case .add: BroadcastKernels.combine(left, right, into: y.pointer, rows: rows, columns: columns, accumulate: false, +)
        case .subtract: BroadcastKernels.combine(left, right, into: y.pointer, rows: rows, columns: columns, accumulate: false, -)
        case .multiply: BroadcastKernels.combine(left, right, into: y.pointer, rows: rows, columns: columns, accumulate: false, *)
        case .divide: BroadcastKernels.combine(left, right, into: y.pointer, rows: rows, columns: columns, accumulate: false, /)
        }
        if y.isRecorded { outputStorage = y.storage }
        return y
    }

    /// a + b, elementwise with broadcasting: shapes equal, or one side a scalar, a row `[C]` or
    /// `[1, C]`, or a column `[R, 1]` of the other's `[R, C]`. Differentiable in both; a broadcast
    /// side's gradient is summed down to its shape.
    public static func + (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .add) }
    /// a − b, elementwise with the broadcasting of `+`; differentiable in both.
    public static func - (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .subtract) }
    /// a · b, elementwise (not a matrix product: see `matmul`) with the broadcasting of `+`;
    /// differentiable in both.
    public static func * (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .multiply) }
    /// a / b, elementwise with the broadcasting of `+`; differentiable in both.
    public static func / (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .divide) }

    /// a + b for every element of a.
    public static func + (a: Tensor, b: Float) -> Tensor { binary(a, Tensor(b), .add) }
    /// a − b for every element of a.
    public static func - (a: Tensor, b: Float) -> Tensor { binary(a, Tensor(b), .subtract) }
    /// a · b for every element of a.
    public static func * (a: Tensor, b: Float) -> Tensor { binary(a, Tensor(b), .multiply) }
    /// a / b for every element of a.
    public static func / (a: Tensor, b: Float) -> Tensor { binary(a, Tensor(b), .divide) }
    /// a + b for every element of b.
    public static func + (a: Float, b: Tensor) -> Tensor { binary(Tensor(a), b, .add) }
    /// a − b for every element of b.
    public static func - (a: Float, b: Tensor) -> Tensor { binary(Tensor(a), b, .subtract) }
    /// a · b for every element of b.
    public static func * (a: Float, b: Tensor) -> Tensor { binary(Tensor(a), b, .multiply) }
    /// a / b for every element of b.
    public static func / (a: Float, b: Tensor) -> Tensor { binary(Tensor(a), b, .divide) }
}
