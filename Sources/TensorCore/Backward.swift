extension Tensor {
    /// Reverse-mode differentiation from this scalar: accumulates `d self / d t` into the
    /// gradient of every tensor `t` in the recorded graph that requires a gradient.
    ///
    /// The seed gradient is 1 (or `seed`, which must have this tensor's count). Nodes are
    /// visited in reverse topological order, so each node's gradient is complete before its
    /// backward function runs.
    ///
    /// `afterEachNode`, when given, is called after every node's backward function with the
    /// leaves (tensors without a backward function, parameters among them) that node was the
    /// last to reach: their gradients are final from then on, while the rest of the pass runs.
    /// Data-parallel training starts summing those gradients across processes there, overlapping
    /// communication with the remaining backward work (the bucketed all-reduce of PyTorch's DDP,
    /// Li et al. 2020). Leaves the pass never reaches are never named.
    public func backward(seed: [Float]? = nil, afterEachNode: ((_ finalLeaves: [Tensor]) -> Void)? = nil) {
        precondition(seed != nil || count == 1, "backward() without a seed needs a scalar, shape is \(shape)")
        guard requiresGradient else { return }
        accumulateGradient { gradient, accumulate in
            for index in 0..<count {
                let value = seed?[index] ?? 1
                gradient[index] = accumulate ? gradient[index] + value : value
            }
        }
        let nodes = Array(topologicalOrder().reversed())
        let finalAt = afterEachNode == nil ? [] : Self.leavesLastReached(in: nodes)
        for (step, node) in nodes.enumerated() {
            if let backwardFunction = node.backwardFunction, let gradient = node.gradientPointer {
                backwardFunction(UnsafePointer(gradient))
            }
            afterEachNode?(finalAt[step])
        }
    }

    /// For each node of `nodes` (in visiting order), the leaves it is the last node to reach:
    /// walking from the end, a leaf's first consumer met is its last.
    static func leavesLastReached(in nodes: [Tensor]) -> [[Tensor]] {
        var finalAt = [[Tensor]](repeating: [], count: nodes.count)
        var seen = Set<ObjectIdentifier>()
        for step in nodes.indices.reversed() where nodes[step].backwardFunction != nil {
            for input in nodes[step].inputs where input.requiresGradient && input.backwardFunction == nil {
                if seen.insert(ObjectIdentifier(input)).inserted { finalAt[step].append(input) }
            }
        }
        return finalAt
    }

    /// Every recorded node reachable from `self`, inputs before the nodes that use them.
    func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative depth-first post-order: (node, index of the next input to visit).
        var stack: [(Tensor, Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (node, next) = stack.popLast() {
            if next < node.inputs.count {
                stack.append((node, next + 1))
                let input = node.inputs[next]
                if input.requiresGradient, visited.insert(ObjectIdentifier(input)).inserted {
                    stack.append((input, 0))
                }
            } else {
                order.append(node)
            }
        }
        return order
    }
}

extension Tensor {
    /// Runs this result's own backward function once, with `outputGradient` (of this tensor's
    /// shape) as the gradient arriving from above: the inputs' gradients receive this one op's
    /// contribution, and nothing further up the graph runs. For benchmarks that time one op's
    /// backward pass; `backward()` is the way to differentiate.
    public func propagateOwnGradient(_ outputGradient: Tensor) {
        precondition(outputGradient.shape == shape, "the output gradient must have shape \(shape), got \(outputGradient.shape)")
        backwardFunction?(UnsafePointer(outputGradient.pointer))
    }
}
