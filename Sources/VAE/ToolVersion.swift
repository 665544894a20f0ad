/// The toolkit's version, recorded in every run folder and model file.
public enum ToolVersion {
    /// This build's version (semantic versioning).
    public static let current = "0.4.0"
}
