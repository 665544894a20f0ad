import CCairo
import Foundation

/// Lines over a shared x axis, drawn with cairo: axes with "nice" ticks, a legend, a title.
public struct LinePlot: Sendable, CairoPicture {
    /// One line of the plot.
    public struct Series: Sendable {
        /// The legend's text.
        public let name: String
        /// The points, joined in order.
        public let points: [(x: Double, y: Double)]
        /// The line's colour.
        public let colour: Colour
        /// Whether the line is dashed.
        public let dashed: Bool
        /// A line through `points`.
        public init(name: String, points: [(x: Double, y: Double)], colour: Colour, dashed: Bool = false) {
            (self.name, self.points, self.colour, self.dashed) = (name, points, colour, dashed)
        }
    }

    /// The plot's title.
    public var title: String
    /// The x axis's label.
    public var xLabel: String
    /// The y axis's label.
    public var yLabel: String
    /// The lines, drawn in order.
    public var series: [Series]
    /// The picture's width in points.
    public var width = 640.0
    /// The picture's height in points.
    public var height = 420.0

    /// A plot of `series`; the axes cover every point.
    /// Whether x counts something (epochs): ticks at whole numbers only.
    public var integerX = false

    /// A plot of `series`; `integerX` for an x axis of counts, such as epochs.
    public init(title: String, xLabel: String, yLabel: String, series: [Series], integerX: Bool = false) {
        (self.title, self.xLabel, self.yLabel, self.series, self.integerX) = (title, xLabel, yLabel, series, integerX)
    }

    /// The plot as PNG bytes.
    public func pngData() throws(PictureError) -> Data { try renderPNG() }

    /// The plot as SVG text.
    public func svgData() throws(PictureError) -> Data { try renderSVG() }

    /// Writes PNG or SVG (by the file's extension) atomically.
    public func write(to url: URL) throws(PictureError) { try writeRendered(to: url) }

    func draw(_ cr: OpaquePointer) {
        let frame = PlotFrame.draw(
            cr, width: width, height: height, title: title, xLabel: xLabel, yLabel: yLabel,
            xRange: .covering(series.flatMap { $0.points.map(\.x) }), yRange: .covering(series.flatMap { $0.points.map(\.y) }),
            integerX: integerX)

        // Lines, clipped to the plot area.
        frame.clip(cr)
        cairo_set_line_width(cr, 2)
        for line in series {
            setColour(cr, line.colour)
            var dashes: [Double] = [6, 4]
            cairo_set_dash(cr, &dashes, line.dashed ? 2 : 0, 0)
            var started = false
            for point in line.points where point.y.isFinite {
                if started { cairo_line_to(cr, frame.x(point.x), frame.y(point.y)) } else { cairo_move_to(cr, frame.x(point.x), frame.y(point.y)) }
                started = true
            }
            if line.points.count == 1, let point = line.points.first {
                cairo_arc(cr, frame.x(point.x), frame.y(point.y), 3, 0, 2 * .pi)
                cairo_fill(cr)
            }
            cairo_stroke(cr)
        }
        cairo_restore(cr)

        // Legend, top right inside the plot area.
        cairo_set_font_size(cr, 11)
        var y = frame.top + 14
        for line in series {
            setColour(cr, line.colour)
            var dashes: [Double] = [6, 4]
            cairo_set_dash(cr, &dashes, line.dashed ? 2 : 0, 0)
            cairo_set_line_width(cr, 2)
            cairo_move_to(cr, frame.right - 150, y); cairo_line_to(cr, frame.right - 124, y); cairo_stroke(cr)
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1)
            showText(cr, line.name, x: frame.right - 118, y: y, alignX: 0, alignY: 0.5)
            y += 16
        }
    }
}
