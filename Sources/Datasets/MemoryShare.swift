import Foundation

/// The share of this machine's memory one training run may plan to use: half of it. The
/// dataset (checked after listing, before decoding) and the model (checked before it is
/// allocated) are each held to it.
public enum MemoryShare {
    /// Half this machine's physical memory, in bytes.
    public static var availableBytes: Double { Double(ProcessInfo.processInfo.physicalMemory) / 2 }

    /// "12.3 GB".
    public static func describe(_ bytes: Double) -> String { String(format: "%.1f GB", bytes / 1e9) }
}
