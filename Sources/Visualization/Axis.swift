import Foundation

/// Tick positions at 1, 2 or 5 times a power of ten, covering [low, high].
public enum Axis {
    /// About `target` tick positions covering [low, high], at multiples of a step of 1, 2 or 5 times
    /// a power of ten; with `integers` (an axis of counts, such as epochs) the step is at least 1,
    /// so every tick is a whole number.
    public static func ticks(low: Double, high: Double, target: Int = 6, integers: Bool = false) -> [Double] {
        var (low, high) = (low, high)
        if !(high > low) { (low, high) = integers ? (low - 1, high + 1) : (low - 0.5, high + 0.5) }
        let rough = max((high - low) / Double(target), integers ? 1 : 0)
        let magnitude = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        let first = floor(low / step) * step, last = ceil(high / step) * step
        return stride(from: first, through: last + step / 2, by: step).map { ($0 / step).rounded() * step }
    }

    /// `value` written with as many decimals as `step` needs.
    public static func label(_ value: Double, step: Double) -> String {
        let decimals = max(0, -Int(floor(log10(step))))
        let text = String(format: "%.\(decimals)f", value)
        return text.hasPrefix("-") && text.allSatisfy({ "-0.".contains($0) }) ? String(text.dropFirst()) : text
    }
}
