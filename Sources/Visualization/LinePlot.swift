import CCairo
import Foundation
import Persistence

/// An RGB colour with components in [0, 1].
public struct Colour: Equatable, Sendable {
    public let red, green, blue: Double
    public init(red: Double, green: Double, blue: Double) { (self.red, self.green, self.blue) = (red, green, blue) }

    /// Okabe and Ito's palette plus two: distinguishable by most colour-blind readers; enough for
    /// ten classes.
    public static let qualitative: [Colour] = [
        (0.0, 0.447, 0.698), (0.835, 0.369, 0.0), (0.0, 0.620, 0.451), (0.800, 0.475, 0.655), (0.941, 0.894, 0.259),
        (0.337, 0.706, 0.914), (0.902, 0.624, 0.0), (0.0, 0.0, 0.0), (0.6, 0.6, 0.6), (0.55, 0.27, 0.07),
    ].map { Colour(red: $0.0, green: $0.1, blue: $0.2) }
}

/// Lines over a shared x axis, drawn with cairo: axes with "nice" ticks, a legend, a title.
public struct LinePlot: Sendable {
    public struct Series: Sendable {
        public let name: String
        public let points: [(x: Double, y: Double)]
        public let colour: Colour
        public let dashed: Bool
        public init(name: String, points: [(x: Double, y: Double)], colour: Colour, dashed: Bool = false) {
            (self.name, self.points, self.colour, self.dashed) = (name, points, colour, dashed)
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var width = 640.0
    public var height = 420.0

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        (self.title, self.xLabel, self.yLabel, self.series) = (title, xLabel, yLabel, series)
    }

    /// The plot as PNG bytes.
    public func pngData() throws(PictureError) -> Data {
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)) else {
            throw .encodingFailed(reason: "cairo could not create a surface")
        }
        defer { cairo_surface_destroy(surface) }
        draw(on: surface)
        return try StreamCollector.collect { collector in
            cairo_surface_write_to_png_stream(surface, StreamCollector.write, collector)
        }
    }

    /// The plot as SVG text.
    public func svgData() throws(PictureError) -> Data {
        let collector = StreamCollector()
        let unmanaged = Unmanaged.passRetained(collector)
        defer { unmanaged.release() }
        guard let surface = cairo_svg_surface_create_for_stream(StreamCollector.write, unmanaged.toOpaque(), width, height) else {
            throw .encodingFailed(reason: "cairo could not create an SVG surface")
        }
        draw(on: surface)
        cairo_surface_finish(surface)
        let status = cairo_surface_status(surface)
        cairo_surface_destroy(surface)
        guard status == CAIRO_STATUS_SUCCESS else { throw .encodingFailed(reason: String(cString: cairo_status_to_string(status))) }
        return collector.data
    }

    /// Writes PNG or SVG (by the file's extension) atomically.
    public func write(to url: URL) throws(PictureError) {
        let data = url.pathExtension.lowercased() == "svg" ? try svgData() : try pngData()
        do { try writeAtomically(data, to: url) } catch { throw .writeFailed(path: url.path, reason: error.reason) }
    }

    private func draw(on surface: OpaquePointer) {
        let cr = cairo_create(surface)!
        defer { cairo_destroy(cr) }
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_paint(cr)
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        let (left, right, top, bottom) = (70.0, width - 20, 40.0, height - 50)
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        let xTicks = Axis.ticks(low: xs.min() ?? 0, high: xs.max() ?? 1)
        let yTicks = Axis.ticks(low: ys.min() ?? 0, high: ys.max() ?? 1)
        let (x0, x1) = (xTicks.first!, xTicks.last!), (y0, y1) = (yTicks.first!, yTicks.last!)
        func px(_ x: Double) -> Double { left + (x - x0) / max(x1 - x0, 1e-12) * (right - left) }
        func py(_ y: Double) -> Double { bottom - (y - y0) / max(y1 - y0, 1e-12) * (bottom - top) }

        // Grid, ticks and labels.
        cairo_set_font_size(cr, 11)
        cairo_set_line_width(cr, 1)
        for tick in yTicks {
            cairo_set_source_rgb(cr, 0.9, 0.9, 0.9)
            cairo_move_to(cr, left, py(tick).rounded() + 0.5); cairo_line_to(cr, right, py(tick).rounded() + 0.5); cairo_stroke(cr)
            cairo_set_source_rgb(cr, 0.2, 0.2, 0.2)
            text(cr, Axis.label(tick, step: yTicks[1] - yTicks[0]), x: left - 6, y: py(tick), alignX: 1, alignY: 0.5)
        }
        for tick in xTicks {
            cairo_set_source_rgb(cr, 0.9, 0.9, 0.9)
            cairo_move_to(cr, px(tick).rounded() + 0.5, top); cairo_line_to(cr, px(tick).rounded() + 0.5, bottom); cairo_stroke(cr)
            cairo_set_source_rgb(cr, 0.2, 0.2, 0.2)
            text(cr, Axis.label(tick, step: xTicks[1] - xTicks[0]), x: px(tick), y: bottom + 6, alignX: 0.5, alignY: 0)
        }
        cairo_set_source_rgb(cr, 0, 0, 0)
        cairo_rectangle(cr, left + 0.5, top + 0.5, right - left, bottom - top)
        cairo_stroke(cr)
        cairo_set_font_size(cr, 12)
        text(cr, xLabel, x: (left + right) / 2, y: height - 8, alignX: 0.5, alignY: 1)
        cairo_save(cr)
        cairo_translate(cr, 16, (top + bottom) / 2)
        cairo_rotate(cr, -Double.pi / 2)
        text(cr, yLabel, x: 0, y: 0, alignX: 0.5, alignY: 0.5)
        cairo_restore(cr)
        cairo_set_font_size(cr, 14)
        text(cr, title, x: (left + right) / 2, y: 12, alignX: 0.5, alignY: 0)

        // Lines, clipped to the plot area.
        cairo_save(cr)
        cairo_rectangle(cr, left, top, right - left, bottom - top)
        cairo_clip(cr)
        cairo_set_line_width(cr, 2)
        for line in series {
            cairo_set_source_rgb(cr, line.colour.red, line.colour.green, line.colour.blue)
            var dashes: [Double] = [6, 4]
            cairo_set_dash(cr, &dashes, line.dashed ? 2 : 0, 0)
            for (index, point) in line.points.enumerated() where point.y.isFinite {
                if index == 0 { cairo_move_to(cr, px(point.x), py(point.y)) } else { cairo_line_to(cr, px(point.x), py(point.y)) }
            }
            if line.points.count == 1, let point = line.points.first {
                cairo_arc(cr, px(point.x), py(point.y), 3, 0, 2 * .pi)
                cairo_fill(cr)
            }
            cairo_stroke(cr)
        }
        cairo_restore(cr)

        // Legend, top right.
        cairo_set_font_size(cr, 11)
        var y = top + 14
        for line in series {
            cairo_set_source_rgb(cr, line.colour.red, line.colour.green, line.colour.blue)
            var dashes: [Double] = [6, 4]
            cairo_set_dash(cr, &dashes, line.dashed ? 2 : 0, 0)
            cairo_set_line_width(cr, 2)
            cairo_move_to(cr, right - 150, y); cairo_line_to(cr, right - 124, y); cairo_stroke(cr)
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1)
            text(cr, line.name, x: right - 118, y: y, alignX: 0, alignY: 0.5)
            y += 16
        }
    }

    private func text(_ cr: OpaquePointer, _ string: String, x: Double, y: Double, alignX: Double, alignY: Double) {
        var extents = cairo_text_extents_t()
        cairo_text_extents(cr, string, &extents)
        cairo_move_to(cr, x - extents.width * alignX - extents.x_bearing, y - extents.height * alignY - extents.y_bearing)
        cairo_show_text(cr, string)
    }
}

/// Tick positions at 1, 2 or 5 times a power of ten, covering [low, high].
public enum Axis {
    public static func ticks(low: Double, high: Double, target: Int = 6) -> [Double] {
        var (low, high) = (low, high)
        if !(high > low) { (low, high) = (low - 0.5, high + 0.5) }
        let rough = (high - low) / Double(target)
        let magnitude = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        let first = floor(low / step) * step, last = ceil(high / step) * step
        return stride(from: first, through: last + step / 2, by: step).map { ($0 / step).rounded() * step }
    }

    public static func label(_ value: Double, step: Double) -> String {
        let decimals = max(0, -Int(floor(log10(step))))
        return String(format: "%.\(decimals)f", value)
    }
}

/// Collects the bytes cairo writes through a stream callback.
final class StreamCollector {
    var data = Data()

    static let write: cairo_write_func_t = { closure, bytes, length in
        let collector = Unmanaged<StreamCollector>.fromOpaque(closure!).takeUnretainedValue()
        collector.data.append(bytes!, count: Int(length))
        return CAIRO_STATUS_SUCCESS
    }

    static func collect(_ body: (UnsafeMutableRawPointer) -> cairo_status_t) throws(PictureError) -> Data {
        let collector = StreamCollector()
        let unmanaged = Unmanaged.passRetained(collector)
        defer { unmanaged.release() }
        let status = body(unmanaged.toOpaque())
        guard status == CAIRO_STATUS_SUCCESS else { throw .encodingFailed(reason: String(cString: cairo_status_to_string(status))) }
        return collector.data
    }
}
