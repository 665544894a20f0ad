import Foundation

/// An RGB colour with components in [0, 1].
public struct Colour: Equatable, Sendable {
    /// The components, each in [0, 1].
    public let red, green, blue: Double
    /// A colour of the given components, each in [0, 1].
    public init(red: Double, green: Double, blue: Double) { (self.red, self.green, self.blue) = (red, green, blue) }

    /// Okabe and Ito's palette plus two: distinguishable by most colour-blind readers; enough for
    /// ten classes.
    public static let qualitative: [Colour] = [
        (0.0, 0.447, 0.698), (0.835, 0.369, 0.0), (0.0, 0.620, 0.451), (0.800, 0.475, 0.655), (0.941, 0.894, 0.259),
        (0.337, 0.706, 0.914), (0.902, 0.624, 0.0), (0.0, 0.0, 0.0), (0.6, 0.6, 0.6), (0.55, 0.27, 0.07),
    ].map { Colour(red: $0.0, green: $0.1, blue: $0.2) }
}
