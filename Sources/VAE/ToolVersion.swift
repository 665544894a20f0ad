/// The toolkit's version, recorded in every run folder and model file.
public enum ToolVersion {
    public static let current = "0.3.0"
}
