import CCairo
import Foundation

/// Points in a plane coloured by class, drawn with cairo: anti-aliased translucent dots (so
/// dense regions read as dense), axes with ticks, a title, and a legend with one entry per class.
///
/// Each point is its own filled circle, so the SVG holds exactly one mark per point (in the
/// given order: later points are drawn over earlier ones) plus one opaque legend mark per class.
public struct ScatterPlot: Sendable, CairoPicture {
    /// The plot's title.
    public var title: String
    /// The x axis's label.
    public var xLabel: String
    /// The y axis's label.
    public var yLabel: String
    /// The points' coordinates and classes: `classes[i]` indexes `classNames`.
    public var xs: [Double]
    /// The points' y coordinates, as many as `xs`.
    public var ys: [Double]
    /// Each point's class, as many as `xs`.
    public var classes: [Int]
    /// The legend's names, by class.
    public var classNames: [String]
    /// The colours, by class.
    public var colours: [Colour]
    /// Each point's radius in points.
    public var pointRadius = 1.6
    /// Each point's opacity, so that dense regions read darker.
    public var pointOpacity = 0.6
    /// The picture's width in points.
    public var width = 640.0
    /// The picture's height in points.
    public var height = 560.0

    /// A scatter plot of the points (`xs`, `ys`) coloured by `classes`.
    public init(title: String, xLabel: String, yLabel: String, xs: [Double], ys: [Double], classes: [Int],
                classNames: [String], colours: [Colour] = Colour.qualitative) {
        precondition(xs.count == ys.count && xs.count == classes.count, "a scatter plot needs as many x, y and classes: \(xs.count), \(ys.count), \(classes.count)")
        precondition(classes.allSatisfy { classNames.indices.contains($0) }, "every class must index classNames (\(classNames.count) names)")
        precondition(colours.count >= classNames.count, "\(classNames.count) classes need as many colours, got \(colours.count)")
        (self.title, self.xLabel, self.yLabel) = (title, xLabel, yLabel)
        (self.xs, self.ys, self.classes, self.classNames, self.colours) = (xs, ys, classes, classNames, colours)
    }

    /// The plot as PNG bytes.
    public func pngData() throws(PictureError) -> Data { try renderPNG() }

    /// The plot as SVG text.
    public func svgData() throws(PictureError) -> Data { try renderSVG() }

    /// Writes PNG or SVG (by the file's extension) atomically.
    public func write(to url: URL) throws(PictureError) { try writeRendered(to: url) }

    func draw(_ cr: OpaquePointer) {
        let legendWidth = 20 + 12 * Double(classNames.map(\.count).max() ?? 1) + 20
        let frame = PlotFrame.draw(cr, width: width, height: height, title: title, xLabel: xLabel, yLabel: yLabel,
                                   xRange: .covering(xs), yRange: .covering(ys), legendWidth: legendWidth)
        frame.clip(cr)
        for index in xs.indices where xs[index].isFinite && ys[index].isFinite {
            setColour(cr, colours[classes[index]], alpha: pointOpacity)
            cairo_new_path(cr)
            cairo_arc(cr, frame.x(xs[index]), frame.y(ys[index]), pointRadius, 0, 2 * .pi)
            cairo_fill(cr)
        }
        cairo_restore(cr)

        // Legend, right of the plot area: a dot and the class name per class.
        cairo_set_font_size(cr, 12)
        var y = frame.top + 10
        for (index, name) in classNames.enumerated() {
            setColour(cr, colours[index])
            cairo_new_path(cr)
            cairo_arc(cr, frame.right + 20, y, 5, 0, 2 * .pi)
            cairo_fill(cr)
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1)
            showText(cr, name, x: frame.right + 32, y: y, alignX: 0, alignY: 0.5)
            y += 20
        }
    }
}
