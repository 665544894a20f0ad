import CCairo
import Foundation

/// Line plots side by side in one picture (for example a loss and its two terms).
public struct PlotRow: Sendable, CairoPicture {
    /// The plots, left to right.
    public var plots: [LinePlot]

    /// The plots side by side.
    public init(_ plots: [LinePlot]) {
        precondition(!plots.isEmpty, "a row of plots needs at least one plot")
        self.plots = plots
    }

    /// The sum of the plots' widths.
    public var width: Double { plots.reduce(0) { $0 + $1.width } }
    /// The tallest plot's height.
    public var height: Double { plots.map(\.height).max()! }

    /// The picture as PNG bytes.
    public func pngData() throws(PictureError) -> Data { try renderPNG() }

    /// The picture as SVG text.
    public func svgData() throws(PictureError) -> Data { try renderSVG() }

    /// Writes PNG or SVG (by the file's extension) atomically.
    public func write(to url: URL) throws(PictureError) { try writeRendered(to: url) }

    func draw(_ cr: OpaquePointer) {
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_paint(cr)
        var left = 0.0
        for plot in plots {
            cairo_save(cr)
            cairo_translate(cr, left, 0)
            plot.draw(cr)
            cairo_restore(cr)
            left += plot.width
        }
    }
}
