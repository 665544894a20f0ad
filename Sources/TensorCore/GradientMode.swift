/// Whether operations record what they need for the backward pass.
///
/// Recording is on by default. Evaluation code runs inside `withoutGradients { ... }`, where no
/// operation keeps its inputs or a backward function, so memory is released as soon as a
/// result is no longer used.
public enum GradientMode {
    @TaskLocal static var isRecording = true

    /// Whether operations started now record a backward function.
    public static var isEnabled: Bool { isRecording }
}

/// Runs `body` with gradient recording off (PyTorch's `torch.no_grad()`).
public func withoutGradients<Result>(_ body: () throws -> Result) rethrows -> Result {
    try GradientMode.$isRecording.withValue(false, operation: body)
}
